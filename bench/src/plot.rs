//! The latency-against-load plot, written as a plain SVG: concurrency on a log₂ axis,
//! latency on a log₁₀ axis, p50 solid and p99 dashed, one colour per path.

use std::fmt::Write;

pub struct Series {
    pub name: String,
    pub color: &'static str,
    /// (concurrency, p50 µs, p99 µs)
    pub points: Vec<(usize, f64, f64)>,
}

const W: f64 = 860.0;
const H: f64 = 520.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 230.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn svg(title: &str, subtitle: &str, series: &[Series]) -> String {
    let all = || series.iter().flat_map(|s| s.points.iter());
    let xmax = all().map(|p| p.0).max().unwrap_or(1).max(2) as f64;
    let lo = all()
        .map(|p| p.1.min(p.2))
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let hi = all().map(|p| p.1.max(p.2)).fold(0.0, f64::max);
    let (lo, hi) = if lo.is_finite() && hi > 0.0 {
        (lo, hi)
    } else {
        (1.0, 10.0)
    };
    let (ylo, yhi) = (
        lo.log10().floor(),
        hi.log10().ceil().max(lo.log10().floor() + 1.0),
    );
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let x = |c: f64| LEFT + pw * (c.max(1.0).log2() / xmax.log2());
    let y = |us: f64| TOP + ph * (1.0 - (us.max(1.0).log10() - ylo) / (yhi - ylo));

    let mut o = String::new();
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(o, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        o,
        r#"<text x="{LEFT}" y="22" font-size="16" font-weight="bold">{}</text>"#,
        esc(title)
    );
    let _ = writeln!(
        o,
        r##"<text x="{LEFT}" y="40" fill="#555">{}</text>"##,
        esc(subtitle)
    );
    // Horizontal grid: 1, 2, 5 × each decade.
    let mut d = ylo as i32;
    while d <= yhi as i32 {
        for m in [1.0, 2.0, 5.0] {
            let v = m * 10f64.powi(d);
            let lv = v.log10();
            if lv < ylo - 1e-9 || lv > yhi + 1e-9 {
                continue;
            }
            let yy = y(v);
            let (stroke, label) = if m == 1.0 {
                ("#bbb", true)
            } else {
                ("#e6e6e6", m == 5.0 || yhi - ylo <= 2.0)
            };
            let _ = writeln!(
                o,
                r#"<line x1="{LEFT}" x2="{:.1}" y1="{yy:.1}" y2="{yy:.1}" stroke="{stroke}"/>"#,
                LEFT + pw
            );
            if label {
                let _ = writeln!(
                    o,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                    LEFT - 6.0,
                    yy + 4.0,
                    fmt_us(v)
                );
            }
        }
        d += 1;
    }
    // Vertical grid: powers of two.
    let mut c = 1usize;
    while c as f64 <= xmax {
        let xx = x(c as f64);
        let _ = writeln!(
            o,
            r##"<line x1="{xx:.1}" x2="{xx:.1}" y1="{TOP}" y2="{:.1}" stroke="#e6e6e6"/>"##,
            TOP + ph
        );
        let _ = writeln!(
            o,
            r#"<text x="{xx:.1}" y="{:.1}" text-anchor="middle">{c}</text>"#,
            TOP + ph + 16.0
        );
        c *= 2;
    }
    let _ = writeln!(
        o,
        r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##
    );
    let _ = writeln!(
        o,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">concurrent requests (closed loop)</text>"#,
        LEFT + pw / 2.0,
        H - 14.0
    );
    let _ = writeln!(
        o,
        r#"<text transform="translate(20 {:.1}) rotate(-90)" text-anchor="middle">latency per request (log scale)</text>"#,
        TOP + ph / 2.0
    );
    for s in series {
        for (i, dash) in [(1usize, ""), (2, r#" stroke-dasharray="6 4""#)] {
            let pts: Vec<String> = s
                .points
                .iter()
                .map(|p| {
                    let v = if i == 1 { p.1 } else { p.2 };
                    format!("{:.1},{:.1}", x(p.0 as f64), y(v))
                })
                .collect();
            let _ = writeln!(
                o,
                r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{dash}/>"#,
                pts.join(" "),
                s.color
            );
            for p in &s.points {
                let v = if i == 1 { p.1 } else { p.2 };
                let _ = writeln!(
                    o,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{}"><title>{} p{} at {}: {}</title></circle>"#,
                    x(p.0 as f64),
                    y(v),
                    s.color,
                    esc(&s.name),
                    if i == 1 { 50 } else { 99 },
                    p.0,
                    fmt_us(v)
                );
            }
        }
    }
    // Legend.
    let lx = LEFT + pw + 16.0;
    let mut ly = TOP + 10.0;
    for s in series {
        let _ = writeln!(
            o,
            r#"<text x="{lx:.1}" y="{ly:.1}" font-weight="bold">{}</text>"#,
            esc(&s.name)
        );
        ly += 16.0;
        for (label, dash) in [("p50", ""), ("p99", r#" stroke-dasharray="6 4""#)] {
            let _ = writeln!(
                o,
                r#"<line x1="{lx:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{}" stroke-width="2"{dash}/>"#,
                lx + 28.0,
                ly - 4.0,
                ly - 4.0,
                s.color
            );
            let _ = writeln!(
                o,
                r#"<text x="{:.1}" y="{ly:.1}">{label}</text>"#,
                lx + 34.0
            );
            ly += 16.0;
        }
        ly += 8.0;
    }
    o.push_str("</svg>\n");
    o
}

fn fmt_us(v: f64) -> String {
    if v >= 1000.0 {
        let ms = v / 1000.0;
        if ms >= 10.0 || (ms - ms.round()).abs() < 1e-9 {
            format!("{ms:.0} ms")
        } else {
            format!("{ms:.1} ms")
        }
    } else {
        format!("{v:.0} µs")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_every_series() {
        let s = super::svg(
            "t",
            "s",
            &[super::Series {
                name: "a<b".into(),
                color: "#000",
                points: vec![(1, 20.0, 40.0), (4, 60.0, 300.0)],
            }],
        );
        assert!(s.starts_with("<svg") && s.ends_with("</svg>\n"));
        assert_eq!(s.matches("<polyline").count(), 2);
        assert!(s.contains("a&lt;b"));
    }
}
