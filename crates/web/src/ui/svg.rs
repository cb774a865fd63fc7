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

/// A label cut to fit `budget` half-width units (a Chinese character counts two, a Latin
/// letter one), with an ellipsis when cut.
fn fit(label: &str, budget: usize) -> String {
    let width = |c: char| if c.is_ascii() { 1 } else { 2 };
    if label.chars().map(width).sum::<usize>() <= budget {
        return label.to_owned();
    }
    let mut used = 1;
    let mut out = String::new();
    for c in label.chars() {
        if used + width(c) > budget {
            break;
        }
        used += width(c);
        out.push(c);
    }
    out.push('…');
    out
}

/// Rank intervals: one row per unit (best first), the ranks 1…n across, a line over the
/// 5 %–95 % interval, a dot at the nominal rank and a tick at the median.
/// `items`: (label, nominal, median, q05, q95); `legend`: the three marks' names.
pub fn intervals(items: &[(String, f64, f64, f64, f64)], n: usize, legend: (&str, &str, &str)) -> String {
    let row = 28.0;
    // Narrow, so that a phone shows it at a readable size.
    let (label_w, width, top) = (140.0, 470.0, 34.0);
    let plot_w = width - label_w - 20.0;
    let height = top + items.len() as f64 * row + 24.0;
    let n = n.max(2) as f64;
    let x = |rank: f64| label_w + (rank - 1.0) / (n - 1.0) * plot_w;
    let mut s = format!(
        "<svg role=\"img\" viewBox=\"0 0 {width} {height}\" width=\"100%\" style=\"max-width:{width}px\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    let _ = write!(
        s,
        "<circle cx=\"{a}\" cy=\"12\" r=\"5\" fill=\"#2f6fb8\"/><text x=\"{at}\" y=\"16\" font-size=\"12\">{l0}</text>\
         <line x1=\"{b}\" y1=\"6\" x2=\"{b}\" y2=\"18\" stroke=\"#c2571a\" stroke-width=\"3\"/><text x=\"{bt}\" y=\"16\" font-size=\"12\">{l1}</text>\
         <line x1=\"{c}\" y1=\"12\" x2=\"{c2}\" y2=\"12\" stroke=\"#7aa6d6\" stroke-width=\"4\"/><text x=\"{ct}\" y=\"16\" font-size=\"12\">{l2}</text>",
        a = label_w,
        at = label_w + 9.0,
        b = label_w + 95.0,
        bt = label_w + 102.0,
        c = label_w + 190.0,
        c2 = label_w + 210.0,
        ct = label_w + 215.0,
        l0 = esc(legend.0),
        l1 = esc(legend.1),
        l2 = esc(legend.2),
    );
    // Rank gridlines and labels.
    let step = ((n / 10.0).ceil() as usize).max(1);
    let mut r = 1usize;
    while (r as f64) <= n {
        let _ = write!(
            s,
            "<line x1=\"{gx:.1}\" y1=\"{top}\" x2=\"{gx:.1}\" y2=\"{b}\" stroke=\"#eef1f5\"/><text x=\"{gx:.1}\" y=\"{ly}\" font-size=\"11\" fill=\"#5f6b7a\" text-anchor=\"middle\">{r}</text>",
            gx = x(r as f64),
            b = height - 20.0,
            ly = height - 6.0,
        );
        r += step;
    }
    for (i, (label, nominal, median, q05, q95)) in items.iter().enumerate() {
        let y = top + i as f64 * row + row / 2.0;
        let short = fit(label, 20);
        let _ = write!(
            s,
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"13\" fill=\"#1f2933\">{l}<title>{full}</title></text>",
            lx = label_w - 8.0,
            ty = y + 4.0,
            l = esc(&short),
            full = esc(label),
        );
        if q05.is_finite() && q95.is_finite() {
            let _ = write!(
                s,
                "<line x1=\"{a:.1}\" y1=\"{y}\" x2=\"{b:.1}\" y2=\"{y}\" stroke=\"#7aa6d6\" stroke-width=\"6\" stroke-linecap=\"round\"><title>{q05:.0}–{q95:.0}</title></line>",
                a = x(*q05),
                b = x(*q95),
            );
        }
        if median.is_finite() {
            let _ = write!(
                s,
                "<line x1=\"{m:.1}\" y1=\"{a}\" x2=\"{m:.1}\" y2=\"{b}\" stroke=\"#c2571a\" stroke-width=\"3\"/>",
                m = x(*median),
                a = y - 8.0,
                b = y + 8.0,
            );
        }
        if *nominal >= 1.0 {
            let _ = write!(
                s,
                "<circle cx=\"{cx:.1}\" cy=\"{y}\" r=\"5\" fill=\"#2f6fb8\"><title>{nominal:.0}</title></circle>",
                cx = x(*nominal),
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// A unit's profile: per indicator, its normalised score (0–100) as a bar and the median of
/// the other units as a mark. `items`: (indicator, the unit's score, the others' median).
pub fn profile(items: &[(String, f64, f64)], legend: (&str, &str)) -> String {
    let row = 30.0;
    let (label_w, width, top) = (160.0, 470.0, 30.0);
    let plot_w = width - label_w - 36.0;
    let height = top + items.len() as f64 * row + 10.0;
    let mut s = format!(
        "<svg role=\"img\" viewBox=\"0 0 {width} {height}\" width=\"100%\" style=\"max-width:{width}px\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    let _ = write!(
        s,
        "<rect x=\"{label_w}\" y=\"6\" width=\"12\" height=\"12\" fill=\"#2f6fb8\"/><text x=\"{a}\" y=\"16\" font-size=\"12\">{l0}</text>\
         <line x1=\"{b}\" y1=\"4\" x2=\"{b}\" y2=\"20\" stroke=\"#1f2933\" stroke-width=\"3\"/><text x=\"{bt}\" y=\"16\" font-size=\"12\">{l1}</text>",
        a = label_w + 16.0,
        b = label_w + 150.0,
        bt = label_w + 157.0,
        l0 = esc(legend.0),
        l1 = esc(legend.1),
    );
    for (i, (label, mine, median)) in items.iter().enumerate() {
        let y = top + i as f64 * row;
        let short = fit(label, 22);
        let _ = write!(
            s,
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"13\" fill=\"#1f2933\">{l}<title>{full}</title></text>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{plot_w}\" height=\"20\" fill=\"#f3f5f8\"/>",
            lx = label_w - 8.0,
            ty = y + 15.0,
            l = esc(&short),
            full = esc(label),
        );
        if mine.is_finite() {
            let _ = write!(
                s,
                "<rect x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"20\" fill=\"#2f6fb8\"><title>{mine:.1}</title></rect><text x=\"{vx:.1}\" y=\"{ty}\" font-size=\"12\" fill=\"#5f6b7a\">{mine:.0}</text>",
                w = (mine.clamp(0.0, 100.0) / 100.0 * plot_w).max(1.0),
                vx = label_w + plot_w + 6.0,
                ty = y + 15.0,
            );
        }
        if median.is_finite() {
            let _ = write!(
                s,
                "<line x1=\"{m:.1}\" y1=\"{a}\" x2=\"{m:.1}\" y2=\"{b}\" stroke=\"#1f2933\" stroke-width=\"3\"><title>{median:.1}</title></line>",
                m = label_w + median.clamp(0.0, 100.0) / 100.0 * plot_w,
                a = y - 3.0,
                b = y + 23.0,
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// A strip of scores on a 0–100 axis, one dot each, and one marked (the viewer's own).
pub fn strip(scores: &[f64], mine: Option<f64>, legend: (&str, &str)) -> String {
    let (left, width, height) = (20.0, 470.0, 86.0);
    let plot_w = width - 2.0 * left;
    let x = |v: f64| left + v.clamp(0.0, 100.0) / 100.0 * plot_w;
    let mut s = format!(
        "<svg role=\"img\" viewBox=\"0 0 {width} {height}\" width=\"100%\" style=\"max-width:{width}px\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    let _ = write!(
        s,
        "<circle cx=\"{a}\" cy=\"10\" r=\"5\" fill=\"#7aa6d6\"/><text x=\"{at}\" y=\"14\" font-size=\"12\">{l0}</text>",
        a = left + 5.0,
        at = left + 14.0,
        l0 = esc(legend.0),
    );
    if mine.is_some() {
        let _ = write!(
            s,
            "<circle cx=\"{b}\" cy=\"10\" r=\"6\" fill=\"#c2571a\"/><text x=\"{bt}\" y=\"14\" font-size=\"12\">{l1}</text>",
            b = left + 150.0,
            bt = left + 160.0,
            l1 = esc(legend.1),
        );
    }
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"50\" x2=\"{r}\" y2=\"50\" stroke=\"#9aa5b1\"/>",
        r = left + plot_w
    );
    for t in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let _ = write!(
            s,
            "<line x1=\"{tx:.1}\" y1=\"46\" x2=\"{tx:.1}\" y2=\"54\" stroke=\"#9aa5b1\"/><text x=\"{tx:.1}\" y=\"72\" font-size=\"11\" fill=\"#5f6b7a\" text-anchor=\"middle\">{t}</text>",
            tx = x(t),
        );
    }
    for v in scores.iter().filter(|v| v.is_finite()) {
        let _ = write!(
            s,
            "<circle cx=\"{cx:.1}\" cy=\"38\" r=\"6\" fill=\"#7aa6d6\" fill-opacity=\"0.7\"><title>{v:.1}</title></circle>",
            cx = x(*v)
        );
    }
    if let Some(m) = mine.filter(|m| m.is_finite()) {
        let _ = write!(
            s,
            "<circle cx=\"{cx:.1}\" cy=\"38\" r=\"7\" fill=\"#c2571a\"><title>{m:.1}</title></circle>",
            cx = x(m)
        );
    }
    s.push_str("</svg>");
    s
}

/// Stacked vertical bars: one bar per category, one segment per series (each series a colour),
/// the total written above each bar.
pub fn stacked(categories: &[String], series: &[(String, Vec<f64>, &str)], unit: &str) -> String {
    let totals: Vec<f64> = (0..categories.len())
        .map(|i| series.iter().map(|s| s.1.get(i).copied().unwrap_or(0.0).max(0.0)).sum())
        .collect();
    let max = totals.iter().copied().fold(0.0f64, f64::max).max(1.0);
    let legend_rows = series.len().div_ceil(2);
    let (width, left, bottom) = (560.0, 56.0, 30.0);
    let top = 14.0 + legend_rows as f64 * 18.0 + 14.0;
    let plot_h = 200.0;
    let height = top + plot_h + bottom;
    let slot = (width - left - 10.0) / categories.len().max(1) as f64;
    let bar_w = slot * 0.6;
    let mut s = format!(
        "<svg role=\"img\" viewBox=\"0 0 {width} {height}\" width=\"100%\" style=\"max-width:{width}px\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for (k, (name, _, colour)) in series.iter().enumerate() {
        let x = left + (k % 2) as f64 * 250.0;
        let y = 6.0 + (k / 2) as f64 * 18.0;
        let _ = write!(
            s,
            "<rect x=\"{x}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{colour}\"/><text x=\"{tx}\" y=\"{ty}\" font-size=\"12\">{n}</text>",
            tx = x + 16.0,
            ty = y + 10.0,
            n = esc(name)
        );
    }
    let _ = write!(
        s,
        "<text x=\"{x}\" y=\"{y}\" font-size=\"11\" fill=\"#5f6b7a\" text-anchor=\"end\">{m}</text><line x1=\"{left}\" y1=\"{b}\" x2=\"{width}\" y2=\"{b}\" stroke=\"#d9dee5\"/>",
        x = left - 6.0,
        y = top + 8.0,
        m = esc(&format!("{max:.0}{unit}")),
        b = top + plot_h,
    );
    for (i, cat) in categories.iter().enumerate() {
        let x = left + i as f64 * slot + (slot - bar_w) / 2.0;
        let mut y = top + plot_h;
        for (name, values, colour) in series {
            let v = values.get(i).copied().unwrap_or(0.0).max(0.0);
            let h = v / max * plot_h;
            if h > 0.0 {
                y -= h;
                let _ = write!(
                    s,
                    "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar_w:.1}\" height=\"{h:.1}\" fill=\"{colour}\"><title>{c} · {n}: {v}{u}</title></rect>",
                    c = esc(cat),
                    n = esc(name),
                    u = esc(unit),
                );
            }
        }
        let total = totals.get(i).copied().unwrap_or(0.0);
        let _ = write!(
            s,
            "<text x=\"{cx:.1}\" y=\"{ty:.1}\" font-size=\"11\" fill=\"#1f2933\" text-anchor=\"middle\">{total:.1}</text><text x=\"{cx:.1}\" y=\"{ly}\" font-size=\"10\" fill=\"#5f6b7a\" text-anchor=\"middle\">{c}</text>",
            cx = x + bar_w / 2.0,
            ty = y - 4.0,
            ly = top + plot_h + 18.0,
            c = esc(cat),
        );
    }
    s.push_str("</svg>");
    s
}

/// A curve on the unit square (a ROC curve, a gains curve) with the diagonal of a model that
/// ranks at random; `labels` name the x and y axes.
pub fn unit_curve(points: &[(f64, f64)], labels: (&str, &str)) -> String {
    let (size, pad) = (320.0, 44.0);
    let total = size + pad + 12.0;
    let at = |x: f64, y: f64| (pad + x.clamp(0.0, 1.0) * size, 8.0 + (1.0 - y.clamp(0.0, 1.0)) * size);
    let mut s = format!(
        "<svg role=\"img\" viewBox=\"0 0 {total} {total}\" width=\"100%\" style=\"max-width:{total}px\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    let (x0, y0) = at(0.0, 0.0);
    let (x1, y1) = at(1.0, 1.0);
    let _ = write!(
        s,
        "<rect x=\"{x0}\" y=\"{y1}\" width=\"{size}\" height=\"{size}\" fill=\"none\" stroke=\"#c9d1da\"/>\
         <line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y1}\" stroke=\"#9aa5b1\" stroke-dasharray=\"4 4\"/>"
    );
    for t in [0.0, 0.5, 1.0] {
        let (x, _) = at(t, 0.0);
        let (_, y) = at(0.0, t);
        let _ = write!(
            s,
            "<text x=\"{x}\" y=\"{ty}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#5f6b7a\">{t}</text>\
             <text x=\"{tx}\" y=\"{yy}\" text-anchor=\"end\" font-size=\"11\" fill=\"#5f6b7a\">{t}</text>",
            ty = y0 + 16.0,
            tx = x0 - 6.0,
            yy = y + 4.0,
        );
    }
    let path: Vec<String> = points
        .iter()
        .map(|(x, y)| {
            let (px, py) = at(*x, *y);
            format!("{px:.1},{py:.1}")
        })
        .collect();
    let _ = write!(
        s,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#2f6fb8\" stroke-width=\"2\"/>\
         <text x=\"{cx}\" y=\"{by}\" text-anchor=\"middle\" font-size=\"12\" fill=\"#1f2933\">{lx}</text>\
         <text x=\"12\" y=\"{cy}\" text-anchor=\"middle\" font-size=\"12\" fill=\"#1f2933\" transform=\"rotate(-90 12 {cy})\">{ly}</text></svg>",
        path.join(" "),
        cx = pad + size / 2.0,
        by = total - 2.0,
        cy = 8.0 + size / 2.0,
        lx = esc(labels.0),
        ly = esc(labels.1),
    );
    s
}

/// Lines over time (months, say) with horizontal threshold lines; every label is kept in the
/// points' tooltips, and the axis names about eight of them.
pub fn trend(
    categories: &[String],
    series: &[(String, Vec<f64>, &str)],
    thresholds: &[(String, f64, &str)],
) -> String {
    let (width, height, left, top, bottom) = (760.0, 260.0, 48.0, 28.0, 34.0);
    let plot_w = width - left - 16.0;
    let plot_h = height - top - bottom;
    let max = series
        .iter()
        .flat_map(|s| s.1.iter().copied())
        .chain(thresholds.iter().map(|t| t.1))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.1;
    let n = categories.len().max(1);
    let x = |i: usize| left + if n > 1 { plot_w * i as f64 / (n - 1) as f64 } else { plot_w / 2.0 };
    let y = |v: f64| top + plot_h * (1.0 - (v / max).clamp(0.0, 1.0));
    let mut s = format!(
        "<svg role=\"img\" viewBox=\"0 0 {width} {height}\" width=\"100%\" style=\"max-width:{width}px\" xmlns=\"http://www.w3.org/2000/svg\">\
         <line x1=\"{left}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#c9d1da\"/>",
        b = top + plot_h,
        r = left + plot_w,
    );
    for (label, v, color) in thresholds {
        let _ = write!(
            s,
            "<line x1=\"{left}\" y1=\"{yy:.1}\" x2=\"{r}\" y2=\"{yy:.1}\" stroke=\"{color}\" stroke-dasharray=\"5 4\"/>\
             <text x=\"{left}\" y=\"{ty:.1}\" font-size=\"11\" fill=\"{color}\">{l} {v}</text>",
            yy = y(*v),
            ty = y(*v) - 3.0,
            r = left + plot_w,
            l = esc(label),
        );
    }
    let step = n.div_ceil(8).max(1);
    for (i, c) in categories.iter().enumerate() {
        // The last month is named too, unless a named one stands too close to it.
        if i % step == 0 || (i + 1 == n && i % step > step / 2) {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#5f6b7a\">{}</text>",
                x(i),
                height - 12.0,
                esc(c)
            );
        }
    }
    for (k, (name, values, color)) in series.iter().enumerate() {
        let pts: Vec<String> =
            values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v))).collect();
        let _ = write!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>",
            pts.join(" ")
        );
        for (i, v) in values.iter().enumerate() {
            let _ = write!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{color}\"><title>{} {}: {v:.4}</title></circle>",
                x(i),
                y(*v),
                esc(categories.get(i).map_or("", String::as_str)),
                esc(name)
            );
        }
        let lx = left + 160.0 * k as f64;
        let _ = write!(
            s,
            "<rect x=\"{lx}\" y=\"4\" width=\"12\" height=\"12\" fill=\"{color}\"/><text x=\"{tx}\" y=\"14\" font-size=\"12\" fill=\"#1f2933\">{}</text>",
            esc(name),
            tx = lx + 16.0
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

    #[test]
    fn labels_are_cut_by_their_width() {
        assert_eq!(super::fit("Share of tech enterprises insured", 20), "Share of tech enter…");
        assert_eq!(super::fit("科技企业投保覆盖率测试", 20), "科技企业投保覆盖率…");
        assert_eq!(super::fit("赔付率", 20), "赔付率");
    }

    #[test]
    fn rank_intervals_and_profiles_draw_every_unit_escaped() {
        let s = super::intervals(
            &[("A<B".into(), 1.0, 1.5, 1.0, 2.0), ("C".into(), 2.0, 1.5, 1.0, 2.0)],
            2,
            ("n", "m", "i"),
        );
        assert!(s.contains("A&lt;B") && s.matches("<circle").count() == 3, "{s}");
        let p =
            super::profile(&[("x".into(), 40.0, f64::NAN), ("y".into(), f64::NAN, 50.0)], ("me", "others"));
        assert!(p.contains("<title>40.0</title>") && p.contains("<title>50.0</title>"), "{p}");
    }
}
