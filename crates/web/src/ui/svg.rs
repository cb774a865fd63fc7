//! Small SVG charts rendered on the server (no JavaScript).

use std::fmt::Write;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A horizontal bar chart of labelled values.
pub fn hbar(items: &[(String, f64)], unit: &str) -> String {
    let max = items.iter().map(|i| i.1).fold(0.0f64, f64::max).max(1.0);
    let row = 30;
    let label_w = 210.0;
    let width = 760.0;
    let bar_w = width - label_w - 90.0;
    let height = items.len() * row + 10;
    let mut s = format!(
        "<svg role=\"img\" viewBox=\"0 0 {width} {height}\" width=\"100%\" style=\"max-width:{width}px\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for (i, (full, v)) in items.iter().enumerate() {
        let y = i * row + 5;
        let w = (v / max * bar_w).max(1.0);
        // Long names are shortened to fit; the bar's tooltip keeps the whole name.
        let label = if full.chars().count() > 15 {
            format!("{}…", full.chars().take(14).collect::<String>())
        } else {
            full.clone()
        };
        let _ = write!(
            s,
            "<text x=\"{x}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"13\" fill=\"#1f2933\" translate=\"no\">{l}</text>\
             <rect x=\"{bx}\" y=\"{y}\" width=\"{w:.1}\" height=\"20\" rx=\"3\" fill=\"#2f6fb8\"><title>{f}: {v}{u}</title></rect>\
             <text x=\"{vx:.1}\" y=\"{ty}\" font-size=\"12\" fill=\"#5f6b7a\">{v}{u}</text>",
            v = super::kit::group_digits(&v.to_string()).unwrap_or_else(|| v.to_string()),
            x = label_w - 8.0,
            ty = y + 15,
            l = esc(&label),
            f = esc(full),
            bx = label_w,
            vx = label_w + w + 6.0,
            u = esc(unit),
        );
    }
    s.push_str("</svg>");
    s
}

/// Grouped vertical bars: one group per category, one bar per series.
pub fn grouped(categories: &[String], series: &[(String, Vec<f64>, &str)], unit: &str) -> String {
    let max = series.iter().flat_map(|s| s.1.iter().copied()).fold(0.0f64, f64::max).max(1.0);
    let (width, height, top, bottom, left) = (620.0, 230.0, 28.0, 30.0, 60.0);
    let plot_h = height - top - bottom;
    let group_w = (width - left - 10.0) / categories.len().max(1) as f64;
    let bar_w = (group_w * 0.7) / series.len().max(1) as f64;
    let mut s = format!("<svg role=\"img\" viewBox=\"0 0 {width} {height}\" width=\"100%\" style=\"max-width:{width}px\" xmlns=\"http://www.w3.org/2000/svg\">");
    for (k, (name, _, colour)) in series.iter().enumerate() {
        let x = left + k as f64 * 150.0;
        let _ = write!(s, "<rect x=\"{x}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{colour}\"/><text x=\"{}\" y=\"16\" font-size=\"12\">{}</text>", x + 16.0, esc(name));
    }
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#5f6b7a\" text-anchor=\"end\">{}</text>",
        left - 6.0,
        top + 8.0,
        esc(&format!("{max:.0}{unit}"))
    );
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{width}\" y2=\"{}\" stroke=\"#d9dee5\"/>",
        top + plot_h,
        top + plot_h
    );
    for (i, cat) in categories.iter().enumerate() {
        let gx = left + i as f64 * group_w + group_w * 0.15;
        for (k, (_, values, colour)) in series.iter().enumerate() {
            let v = values.get(i).copied().unwrap_or(0.0);
            let h = (v / max * plot_h).max(0.5);
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{bar_w:.1}\" height=\"{h:.1}\" fill=\"{colour}\"><title>{}: {v:.1}{}</title></rect>",
                gx + k as f64 * bar_w,
                top + plot_h - h,
                esc(cat),
                esc(unit)
            );
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">{}</text>",
            gx + group_w * 0.35,
            height - 10.0,
            esc(cat)
        );
    }
    s.push_str("</svg>");
    s
}

/// A heat-map: one row per row label, one column per column label, each cell shaded by its
/// value against the largest (white to blue), with the value written in it.
pub fn heatmap(rows: &[String], cols: &[String], values: &[Vec<f64>], unit: &str) -> String {
    let max = values.iter().flatten().copied().fold(0.0f64, f64::max).max(1e-9);
    let (label_w, cell_w, cell_h, head_h) = (150.0, 92.0, 30.0, 34.0);
    let width = label_w + cell_w * cols.len() as f64 + 4.0;
    let height = head_h + cell_h * rows.len() as f64 + 4.0;
    let mut s = format!(
        "<svg role=\"img\" viewBox=\"0 0 {width} {height}\" width=\"100%\" style=\"max-width:{width}px\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    let short = |t: &str, n: usize| {
        if t.chars().count() > n {
            format!("{}…", t.chars().take(n - 1).collect::<String>())
        } else {
            t.to_owned()
        }
    };
    for (j, c) in cols.iter().enumerate() {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"22\" font-size=\"12\" text-anchor=\"middle\">{}<title>{}</title></text>",
            label_w + cell_w * (j as f64 + 0.5),
            esc(&short(c, 7)),
            esc(c)
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = head_h + cell_h * i as f64;
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\">{}<title>{}</title></text>",
            label_w - 8.0,
            y + 19.0,
            esc(&short(r, 11)),
            esc(r)
        );
        for (j, c) in cols.iter().enumerate() {
            let v = values.get(i).and_then(|row| row.get(j)).copied().unwrap_or(0.0);
            let t = (v / max).clamp(0.0, 1.0);
            // From #f4f7fb (nothing) to #1f5fa8 (the largest).
            let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
            let fill = format!("#{:02x}{:02x}{:02x}", mix(244.0, 31.0), mix(247.0, 95.0), mix(251.0, 168.0));
            let ink = if t > 0.55 { "#ffffff" } else { "#1f2933" };
            let shown = super::kit::group_digits(&format!("{v:.0}")).unwrap_or_else(|| format!("{v:.0}"));
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\" stroke=\"#ffffff\"><title>{} × {}: {shown}{}</title></rect>\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"{ink}\">{shown}</text>",
                label_w + cell_w * j as f64,
                cell_w - 2.0,
                cell_h - 2.0,
                esc(r),
                esc(c),
                esc(unit),
                label_w + cell_w * (j as f64 + 0.5),
                y + 19.0,
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// A map-like grid of tiles, three to a row: each tile a place with its value (shaded against
/// the largest) and a line under it.
pub fn tiles(items: &[(String, f64, String)], unit: &str) -> String {
    let max = items.iter().map(|i| i.1).fold(0.0f64, f64::max).max(1e-9);
    let (cols, tile_w, tile_h, gap) = (3usize, 200.0, 84.0, 8.0);
    let rows = items.len().div_ceil(cols).max(1);
    let width = cols as f64 * (tile_w + gap);
    let height = rows as f64 * (tile_h + gap);
    let mut s = format!(
        "<svg role=\"img\" viewBox=\"0 0 {width} {height}\" width=\"100%\" style=\"max-width:{width}px\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for (i, (name, v, sub)) in items.iter().enumerate() {
        let (x, y) = ((i % cols) as f64 * (tile_w + gap), (i / cols) as f64 * (tile_h + gap));
        let t = (v / max).clamp(0.0, 1.0);
        let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
        let fill = format!("#{:02x}{:02x}{:02x}", mix(238.0, 31.0), mix(243.0, 95.0), mix(249.0, 168.0));
        let ink = if t > 0.55 { "#ffffff" } else { "#1f2933" };
        let shown = super::kit::group_digits(&format!("{v:.0}")).unwrap_or_else(|| format!("{v:.0}"));
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{tile_w}\" height=\"{tile_h}\" rx=\"6\" fill=\"{fill}\"><title>{n}: {shown}{u}</title></rect>\
             <text x=\"{tx:.1}\" y=\"{y1:.1}\" font-size=\"13\" font-weight=\"600\" fill=\"{ink}\">{n}</text>\
             <text x=\"{tx:.1}\" y=\"{y2:.1}\" font-size=\"18\" fill=\"{ink}\">{shown}{u}</text>\
             <text x=\"{tx:.1}\" y=\"{y3:.1}\" font-size=\"11\" fill=\"{ink}\">{sub}</text>",
            n = esc(name),
            u = esc(unit),
            sub = esc(sub),
            tx = x + 10.0,
            y1 = y + 22.0,
            y2 = y + 50.0,
            y3 = y + 72.0,
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_are_escaped() {
        let s = super::hbar(&[("<b>".into(), 3.0)], "家");
        assert!(s.contains("&lt;b&gt;") && !s.contains("<b>"));
        let h = super::heatmap(&["<r>".into()], &["c".into()], &[vec![2.0]], "元");
        assert!(h.contains("&lt;r&gt;") && h.contains(">2</text>"));
        let t = super::tiles(&[("<p>".into(), 5.0, "3 家".into())], " 万元");
        assert!(t.contains("&lt;p&gt;") && t.contains(">5 万元</text>"));
    }
}
