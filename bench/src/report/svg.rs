//! A dependency-free SVG line plot of live subscribers around the restart.

use std::fmt::Write as _;

use crate::results::StormResult;

const W: f64 = 760.0;
const H: f64 = 360.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 50.0;

/// One polyline per run; blue with jitter, orange without.
pub fn storm_plot(storms: &[StormResult]) -> String {
    let all = storms.iter().flat_map(|s| s.runs.iter());
    let (mut t0, mut t1, mut ymax) = (0i64, 1i64, 1u64);
    for r in all {
        for (t, l) in &r.samples {
            t0 = t0.min(*t);
            t1 = t1.max(*t);
            ymax = ymax.max(*l).max(r.clients);
        }
    }
    let x = |t: i64| LEFT + (t - t0) as f64 / (t1 - t0) as f64 * (W - LEFT - RIGHT);
    let y = |l: u64| TOP + (1.0 - l as f64 / ymax as f64) * (H - TOP - BOTTOM);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="18" text-anchor="middle" font-size="14">Live subscribers around a server kill + restart (t = 0)</text>"#,
        W / 2.0
    );
    // Axes and grid.
    for i in 0..=4 {
        let l = ymax * i / 4;
        let yy = y(l);
        let _ = writeln!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{yy:.1}\" x2=\"{:.1}\" y2=\"{yy:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{l}</text>",
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0
        );
    }
    let step = nice_step(t1 - t0);
    let mut t = (t0 / step) * step;
    while t <= t1 {
        if t >= t0 {
            let xx = x(t);
            let _ = writeln!(
                s,
                "<line x1=\"{xx:.1}\" y1=\"{TOP}\" x2=\"{xx:.1}\" y2=\"{:.1}\" stroke=\"{}\"/>\
                 <text x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{:.1}</text>",
                H - BOTTOM,
                if t == 0 { "#999" } else { "#eee" },
                H - BOTTOM + 16.0,
                t as f64 / 1000.0
            );
        }
        t += step;
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">seconds since the kill</text>"#,
        (LEFT + W - RIGHT) / 2.0,
        H - 12.0
    );
    for st in storms {
        let color = if st.jitter { "#1f77b4" } else { "#ff7f0e" };
        for r in &st.runs {
            let pts: Vec<String> = r
                .samples
                .iter()
                .map(|(t, l)| format!("{:.1},{:.1}", x(*t), y(*l)))
                .collect();
            let _ = writeln!(
                s,
                r#"<polyline fill="none" stroke="{color}" stroke-width="1.5" stroke-opacity="0.8" points="{}"/>"#,
                pts.join(" ")
            );
        }
    }
    // Legend.
    for (i, (label, color)) in [("jitter on", "#1f77b4"), ("jitter off", "#ff7f0e")]
        .iter()
        .enumerate()
    {
        let ly = TOP + 14.0 + i as f64 * 16.0;
        let lx = W - RIGHT - 110.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="3"/><text x="{}" y="{}">{label}</text>"#,
            lx + 20.0,
            lx + 26.0,
            ly + 4.0
        );
    }
    s.push_str("</svg>\n");
    s
}

/// A round tick spacing giving 5 to 12 ticks over `span` ms.
fn nice_step(span: i64) -> i64 {
    [250, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 60_000]
        .into_iter()
        .find(|s| span / s <= 12)
        .unwrap_or(120_000)
}
