//! The "Pictures" section of an image run (`gallery.json`): a few training pictures of each
//! class, with augmentation a few of them as training saw them, then the validation and
//! test pictures the model got wrong with the most
//! confidence — the fastest way to see a label error, a confusing class or a picture that
//! does not belong.

use crate::run_folder::gallery::Tile;

use super::blocks::note;
use super::format::esc;
use super::run::{Optional, Run};

fn tiles(tiles: &[Tile]) -> String {
    let mut html = String::from("<div class=\"tiles\">\n");
    for tile in tiles {
        let caption = match (&tile.predicted, tile.probability) {
            (Some(predicted), Some(p)) => format!(
                "<b>{}</b> taken for {} ({:.0}%)",
                esc(&tile.label),
                esc(predicted),
                p * 100.0
            ),
            _ => format!("<b>{}</b>", esc(&tile.label)),
        };
        html.push_str(&format!(
            "<figure class=\"tile\"><img src=\"{}\" alt=\"{}\" title=\"{}\"><figcaption>{caption}</figcaption></figure>\n",
            esc(&tile.image),
            esc(&tile.label),
            esc(&tile.source),
        ));
    }
    html + "</div>\n"
}

/// The section's body, or `None` for a run without pictures.
pub fn section(run: &Run) -> Option<String> {
    let gallery = match &run.gallery {
        Optional::Absent => return None,
        Optional::Unreadable(why) => return Some(note(why)),
        Optional::Present(gallery) => gallery,
    };
    let mut html = String::from("<h3>Training pictures</h3>\n");
    html.push_str(&tiles(&gallery.examples));
    if !gallery.augmented.is_empty() {
        html.push_str("<h3>Augmented training pictures</h3>\n");
        html.push_str(&note(
            "the first picture of a few classes as it is, then as training saw it in a few seeded draws of this run's augmentation, at the model's input size",
        ));
        html.push_str(&tiles(&gallery.augmented));
    }
    for (set, wrong) in &gallery.wrong {
        html.push_str(&format!("<h3>Most confidently wrong, {}</h3>\n", esc(set)));
        if wrong.is_empty() {
            html.push_str(&note(&format!("no {set} picture is misclassified")));
        } else {
            html.push_str(&tiles(wrong));
        }
    }
    Some(html)
}
