//! Headless Chromium for the report tests: running it on a page, and reading its DOM and
//! log — which charts drew something in a data colour, which console messages are
//! problems. Shared with the command-line crate's image and audit tests (`#[path]`).
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The first of the usual Chromium names on PATH.
pub fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
    .find(|candidate| candidate.is_file())
}

/// Runs Chromium headless on `page` with `extra` flags; returns (stdout, stderr).
pub fn chromium(binary: &Path, page: &Path, extra: &[String]) -> (String, String) {
    let work = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    let (out, err) = (work.path().join("stdout"), work.path().join("stderr"));
    let mut child = Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out).unwrap())
        .stderr(fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium took over 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (
        fs::read_to_string(out).unwrap_or_default(),
        fs::read_to_string(err).unwrap_or_default(),
    )
}

/// The value of attribute `name` in the tag text `tag`.
pub fn attr<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    Some(&tag[start..start + tag[start..].find('"')?])
}

pub fn number(tag: &str, name: &str) -> f64 {
    attr(tag, name)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// A colour that is neither grey, white, black nor absent: data, not axes or grid.
pub fn chromatic(color: Option<&str>) -> bool {
    let Some(hex) = color
        .and_then(|c| c.strip_prefix('#'))
        .filter(|h| h.len() == 6)
    else {
        return false;
    };
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
    let (r, g, b) = (channel(0), channel(2), channel(4));
    r.max(g).max(b) - r.min(g).min(b) > 16
}

/// Whether a drawn element (`rect`, `line`, `polyline`, `path`, `circle`) has a size.
pub fn has_size(name: &str, tag: &str) -> bool {
    match name {
        "rect" => number(tag, "width") > 0.0 && number(tag, "height") > 0.0,
        "circle" => number(tag, "r") > 0.0,
        "line" => {
            (number(tag, "x1") - number(tag, "x2")).abs()
                + (number(tag, "y1") - number(tag, "y2")).abs()
                > 0.0
        }
        "polyline" | "polygon" => {
            let points: Vec<&str> = attr(tag, "points")
                .unwrap_or("")
                .split_whitespace()
                .collect();
            points.iter().any(|p| Some(p) != points.first())
        }
        "path" => attr(tag, "d").is_some_and(|d| d.trim().len() > 2),
        _ => false,
    }
}

/// For each `<svg>` of `dom`: (drawn elements with a size, those of them in a data colour).
pub fn drawn_per_svg(dom: &str) -> Vec<(usize, usize)> {
    let mut result = Vec::new();
    for piece in dom.split("<svg").skip(1) {
        let body = &piece[..piece.find("</svg>").unwrap_or(piece.len())];
        let (mut drawn, mut coloured) = (0, 0);
        for tag in body.split('<').skip(1) {
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            let name = tag.split_whitespace().next().unwrap_or("");
            let tag = format!(" {}", tag.trim_start_matches(name));
            if has_size(name, &tag) {
                drawn += 1;
                if chromatic(attr(&tag, "fill")) || chromatic(attr(&tag, "stroke")) {
                    coloured += 1;
                }
            }
        }
        result.push((drawn, coloured));
    }
    result
}

/// Lines of Chromium's log that report a script error or any console message from the page
/// (the report has no scripts, so any is a problem) or a resource that failed to load.
pub fn console_problems(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            l.contains("Uncaught")
                || (l.contains("CONSOLE") && l.contains("report.html"))
                || l.contains("Failed to load resource")
        })
        .collect()
}

/// A page in headless Chromium (when one is installed): no console errors, every chart
/// drawn in a data colour, every picture decoded (a script appended to a copy of the
/// page counts the `<img>`s that loaded with a size).
pub fn page_draws(report: &Path) {
    let Some(binary) = find_chromium() else {
        if std::env::var("GOODFIT_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
            panic!("GOODFIT_REQUIRE_CHROMIUM=1 but no chromium on PATH");
        }
        eprintln!("skipped the browser check: no chromium on PATH");
        return;
    };
    let html = fs::read_to_string(report).unwrap();
    let pictures = html.matches("<img ").count();
    let svgs = html.matches("<svg").count();
    let copy = tempfile::tempdir().unwrap();
    let page = copy.path().join("report.html");
    let probe = "<script>window.addEventListener('load', () => { const all = [...document.images]; \
                 document.body.setAttribute('data-pictures-drawn', all.filter(i => i.complete && i.naturalWidth > 0).length + '/' + all.length); });</script>";
    fs::write(&page, html.replace("</body>", &format!("{probe}</body>"))).unwrap();
    let (dom, log) = chromium(&binary, &page, &["--dump-dom".to_string()]);
    assert_charts_drawn(&dom, &log, svgs);
    assert!(
        dom.contains(&format!("data-pictures-drawn=\"{pictures}/{pictures}\"")),
        "{pictures} pictures, drawn: {:?}",
        dom.split("data-pictures-drawn=")
            .nth(1)
            .map(|r| &r[..12.min(r.len())])
    );
    eprintln!("headless chromium: {pictures} pictures and {svgs} charts drawn");
}

/// No console problem in Chromium's `log`, and each of the page's `svgs` charts drew
/// something in a data colour in its `dom`.
pub fn assert_charts_drawn(dom: &str, log: &str, svgs: usize) {
    let problems = console_problems(log);
    assert!(
        problems.is_empty(),
        "console errors:\n{}",
        problems.join("\n")
    );
    let charts = drawn_per_svg(dom);
    assert_eq!(charts.len(), svgs);
    for (i, (drawn, coloured)) in charts.iter().enumerate() {
        assert!(
            *coloured > 0,
            "chart {i} draws nothing in colour ({drawn} shapes)"
        );
    }
}
