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

#[cfg(test)]
mod tests {
    #[test]
    fn labels_are_escaped() {
        let s = super::hbar(&[("<b>".into(), 3.0)], "家");
        assert!(s.contains("&lt;b&gt;") && !s.contains("<b>"));
    }
}
