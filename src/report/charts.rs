/*!
The report's charts, drawn with plotters as SVG (inlined in the HTML) and PNG (beside the Markdown).

Every chart is a bar chart, stacked when it has several series, described by [`BarChart`]: the
callers decide what is counted, this module only draws. Text in the PNGs is rasterised with the
DejaVu Sans font compiled into the binary, so charts render the same on a machine with no fonts
installed; the SVGs name a generic font family and let the browser choose.
*/

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{Error, Result};

const FONT: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";
const SIZE: (u32, u32) = (960, 420);
/// Width of the legend column.
const LEGEND_WIDTH: u32 = 230;

/// Colour-blind-friendly categorical colours (Okabe-Ito, then Tableau), cycled.
const PALETTE: [RGBColor; 12] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
    RGBColor(140, 86, 75),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// A bar chart: one bar per x label, one stacked segment per series.
#[derive(Debug, Clone)]
pub struct BarChart {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub x_labels: Vec<String>,
    /// (series name, one value per x label)
    pub series: Vec<(String, Vec<f64>)>,
}

impl BarChart {
    fn max_total(&self) -> f64 {
        (0..self.x_labels.len())
            .map(|i| {
                self.series
                    .iter()
                    .map(|(_, v)| v.get(i).copied().unwrap_or(0.0))
                    .sum::<f64>()
            })
            .fold(0.0, f64::max)
    }

    /// True when there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.max_total() <= 0.0
    }
}

fn register_font() -> Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(
            "the embedded chart font could not be loaded".into(),
        ))
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &BarChart,
) -> std::result::Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    // The legend gets its own column on the right so it never hides a bar.
    let legend = c.series.len() > 1 || c.series.first().is_some_and(|(n, _)| !n.is_empty());
    let (plot, side) = root.split_horizontally(if legend {
        SIZE.0 - LEGEND_WIDTH
    } else {
        SIZE.0
    });
    let n = c.x_labels.len().max(1) as u32;
    let top = (c.max_total() * 1.08).max(1.0);
    let mut chart = ChartBuilder::on(&plot)
        .caption(&c.title, (FAMILY, 20))
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(56)
        .build_cartesian_2d((0u32..n).into_segmented(), 0f64..top)
        .map_err(err)?;
    let labels = c.x_labels.clone();
    // Label every bar when they fit, every k-th otherwise.
    let step = (n as usize).div_ceil(16).max(1);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .bold_line_style(BLACK.mix(0.12))
        .y_labels(8)
        .x_labels(n as usize + 1)
        .x_label_formatter(&|x| match x {
            SegmentValue::CenterOf(i)
                if (*i as usize) < labels.len() && (*i as usize).is_multiple_of(step) =>
            {
                labels[*i as usize].clone()
            }
            _ => String::new(),
        })
        .y_label_formatter(&|y| {
            if y.fract() == 0.0 {
                format!("{y:.0}")
            } else {
                format!("{y:.1}")
            }
        })
        .x_desc(&c.x_desc)
        .y_desc(&c.y_desc)
        .label_style((FAMILY, 13))
        .axis_desc_style((FAMILY, 14))
        .draw()
        .map_err(err)?;
    let mut base = vec![0.0; n as usize];
    for (k, (_, values)) in c.series.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        // One histogram per bar: plotters' `Histogram` keeps its data in a `HashMap` and so drew
        // the bars in a different order every run, and the same report differed byte for byte.
        for (i, v) in values.iter().enumerate().filter(|(_, v)| **v > 0.0) {
            let below = base.get(i).copied().unwrap_or(0.0);
            let series = Histogram::vertical(&chart)
                .style(color.filled())
                .margin(6)
                .baseline_func(move |_: &SegmentValue<u32>| below)
                .data([(i as u32, below + v)]);
            chart.draw_series(series).map_err(err)?;
        }
        for (i, v) in values.iter().enumerate() {
            if let Some(b) = base.get_mut(i) {
                *b += v.max(0.0);
            }
        }
    }
    if legend {
        // Top of the list is the top of the stack.
        for (k, (name, _)) in c.series.iter().enumerate().rev() {
            let row = (c.series.len() - 1 - k) as i32;
            let y = 48 + row * 20;
            let color = PALETTE[k % PALETTE.len()];
            side.draw(&Rectangle::new([(4, y), (16, y + 12)], color.filled()))
                .map_err(err)?;
            let label: String = name.chars().take(30).collect();
            side.draw(&Text::new(
                label,
                (22, y),
                (FAMILY, 12).into_font().color(&BLACK),
            ))
            .map_err(err)?;
        }
    }
    root.present().map_err(err)?;
    Ok(())
}

/// The chart as an SVG document.
pub fn svg(c: &BarChart) -> Result<String> {
    // Text layout needs glyph metrics even when the SVG only names the font.
    register_font()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        draw(&root, c).map_err(|e| Error::Usage(format!("drawing chart {:?}: {e}", c.title)))?;
    }
    Ok(out)
}

/// Write the chart as a PNG file.
pub fn png(c: &BarChart, path: &Path) -> Result<()> {
    register_font()?;
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    draw(&root, c).map_err(|e| Error::Usage(format!("drawing chart {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> BarChart {
        BarChart {
            title: "Events per day".into(),
            x_desc: "day (UTC)".into(),
            y_desc: "events".into(),
            x_labels: vec!["04-13".into(), "04-14".into(), "04-15".into()],
            series: vec![
                ("Authorization".into(), vec![3.0, 0.0, 5.0]),
                ("Cases".into(), vec![1.0, 2.0, 0.0]),
            ],
        }
    }

    #[test]
    fn svg_has_title_labels_and_legend() {
        let s = svg(&sample()).unwrap();
        assert!(s.starts_with("<svg"));
        for text in [
            "Events per day",
            "04-14",
            "Authorization",
            "Cases",
            "day (UTC)",
        ] {
            assert!(s.contains(text), "{text}");
        }
    }

    #[test]
    fn the_same_chart_renders_the_same_svg_every_time() {
        let days: Vec<String> = (1..=28).map(|d| format!("04-{d:02}")).collect();
        let wavy = |k: usize| (0..days.len()).map(|i| ((i * 7 + k) % 11) as f64).collect();
        let c = BarChart {
            x_labels: days.clone(),
            series: vec![("A".into(), wavy(1)), ("B".into(), wavy(5))],
            ..sample()
        };
        let first = svg(&c).unwrap();
        // The bars in left-to-right order, each series in turn: reports must not differ between
        // two runs over the same store.
        for _ in 0..3 {
            assert!(
                svg(&c).unwrap() == first,
                "two renderings of one chart differ"
            );
        }
        let xs: Vec<u32> = first
            .lines()
            .filter(|l| l.starts_with("<rect") && l.contains("fill=\"#0072B2\""))
            .filter_map(|l| l.split("x=\"").nth(1)?.split('"').next()?.parse().ok())
            .collect();
        assert!(xs.len() > 20);
        assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
    }

    #[test]
    fn png_renders_with_the_embedded_font() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.png");
        png(&sample(), &p).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"));
        assert!(bytes.len() > 5_000);
    }
}
