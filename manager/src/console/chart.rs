//! Server-rendered SVG line charts of a database's per-second series: the
//! one drawing code of the console (the page's script only re-fetches them).

use std::fmt::Write;

const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 90.0;

/// One chart, ready to embed.
#[derive(Debug, Clone)]
pub struct Chart {
    pub title: &'static str,
    /// The latest value, formatted.
    pub now: String,
    pub svg: String,
}

/// A chart of `values` (oldest first) labelled `title`, values shown with `format`.
pub fn chart(title: &'static str, values: &[f64], format: fn(f64) -> String) -> Chart {
    let now = values.last().map_or_else(|| "—".to_owned(), |v| format(*v));
    let max = values.iter().copied().fold(0.0_f64, f64::max);
    let top = if max > 0.0 { max * 1.1 } else { 1.0 };
    let step = if values.len() > 1 {
        WIDTH / (values.len() - 1) as f64
    } else {
        0.0
    };
    let mut points = String::new();
    for (i, v) in values.iter().enumerate() {
        let x = i as f64 * step;
        let y = HEIGHT - (v.max(0.0) / top) * (HEIGHT - 4.0);
        let _ = write!(points, "{x:.1},{y:.1} ");
    }
    let minutes = values.len().div_ceil(60).max(1);
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" preserveAspectRatio=\"none\" role=\"img\" \
         aria-label=\"{title} over the last {minutes} min, now {now}, peak {}\">",
        format(max)
    );
    if values.len() > 1 {
        let _ = write!(
            svg,
            "<polygon class=\"area\" points=\"0,{HEIGHT} {points}{WIDTH},{HEIGHT}\"/>\
             <polyline class=\"line\" points=\"{}\"/>",
            points.trim_end()
        );
    } else {
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"empty\">collecting…</text>",
            WIDTH / 2.0,
            HEIGHT / 2.0
        );
    }
    svg.push_str("</svg>");
    Chart { title, now, svg }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_line_scaled_to_the_peak() {
        let c = chart("ops/s", &[0.0, 5.0, 10.0], |v| format!("{v}"));
        assert_eq!(c.now, "10");
        assert!(c.svg.contains("<polyline"), "{}", c.svg);
        assert!(c.svg.contains("0.0,90.0 160.0,"), "{}", c.svg);
        assert!(c.svg.contains("peak 10"), "{}", c.svg);
    }

    #[test]
    fn empty_series_says_so() {
        let c = chart("keys", &[], |v| format!("{v}"));
        assert_eq!(c.now, "—");
        assert!(c.svg.contains("collecting"));
        assert!(!c.svg.contains("polyline"));
    }
}
