//! Texts that do not look like the rest: empty, far shorter than usual, or in another
//! script or language than nearly all the others.
//!
//! Script and language come from `whatlang` (trigram profiles of 69 languages); a language
//! counts only where whatlang calls its guess reliable, and a row is flagged only when one
//! script or language holds at least [`USUAL_SHARE`] of the rows, so a bilingual set
//! flags nothing.

use std::fmt;

/// The share of rows one script (or language) must hold for the others to stand out.
pub const USUAL_SHARE: f64 = 0.9;

/// Fewer words than this is too short, when the median text has at least
/// [`USUAL_WORDS`].
pub const SHORT_WORDS: usize = 3;

/// The median length (in words) from which a text of under [`SHORT_WORDS`] words stands
/// out.
pub const USUAL_WORDS: usize = 8;

/// What is wrong with one text.
#[derive(Debug, Clone, PartialEq)]
pub enum TextProblem {
    /// Nothing but white space.
    Empty,
    /// `words` words where the median text has `median`.
    TooShort {
        /// Its words.
        words: usize,
        /// The median of all texts.
        median: usize,
    },
    /// Written in `script` where nearly every text is in `usual`.
    OtherScript {
        /// Its script.
        script: String,
        /// The script of nearly every text.
        usual: String,
    },
    /// In `language` where nearly every text is in `usual`.
    OtherLanguage {
        /// Its language.
        language: String,
        /// The language of nearly every text.
        usual: String,
    },
}

impl fmt::Display for TextProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextProblem::Empty => write!(f, "empty text"),
            TextProblem::TooShort { words, median } => write!(
                f,
                "{words} word{} where the median text has {median}",
                if *words == 1 { "" } else { "s" }
            ),
            TextProblem::OtherScript { script, usual } => {
                write!(
                    f,
                    "written in {script} where nearly every text is in {usual}"
                )
            }
            TextProblem::OtherLanguage { language, usual } => {
                write!(f, "in {language} where nearly every text is in {usual}")
            }
        }
    }
}

/// Per text, its problem, if any (the first that applies: empty, other script, other
/// language, too short).
pub fn text_problems(texts: &[String]) -> Vec<Option<TextProblem>> {
    let words: Vec<usize> = texts.iter().map(|t| t.split_whitespace().count()).collect();
    let median = {
        let mut w: Vec<usize> = words.iter().copied().filter(|&w| w > 0).collect();
        w.sort_unstable();
        w.get(w.len() / 2).copied().unwrap_or(0)
    };
    let scripts: Vec<Option<String>> = texts
        .iter()
        .map(|t| whatlang::detect_script(t).map(|s| s.name().to_string()))
        .collect();
    let languages: Vec<Option<String>> = texts
        .iter()
        .map(|t| {
            whatlang::detect(t)
                .filter(|info| info.is_reliable())
                .map(|info| info.lang().eng_name().to_string())
        })
        .collect();
    let usual_script = usual(&scripts);
    let usual_language = usual(&languages);
    (0..texts.len())
        .map(|i| {
            if words[i] == 0 {
                return Some(TextProblem::Empty);
            }
            if let (Some(usual), Some(script)) = (&usual_script, &scripts[i]) {
                if script != usual {
                    return Some(TextProblem::OtherScript {
                        script: script.clone(),
                        usual: usual.clone(),
                    });
                }
            }
            if let (Some(usual), Some(language)) = (&usual_language, &languages[i]) {
                if language != usual {
                    return Some(TextProblem::OtherLanguage {
                        language: language.clone(),
                        usual: usual.clone(),
                    });
                }
            }
            (median >= USUAL_WORDS && words[i] < SHORT_WORDS).then_some(TextProblem::TooShort {
                words: words[i],
                median,
            })
        })
        .collect()
}

/// The value at least [`USUAL_SHARE`] of the known values share, if one does.
fn usual(values: &[Option<String>]) -> Option<String> {
    let known: Vec<&String> = values.iter().flatten().collect();
    let mut counts: std::collections::BTreeMap<&String, usize> = Default::default();
    for v in &known {
        *counts.entry(v).or_default() += 1;
    }
    let (value, count) = counts.into_iter().max_by_key(|&(_, c)| c)?;
    (count as f64 >= USUAL_SHARE * known.len() as f64).then(|| value.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_short_and_foreign_texts_stand_out_from_english_reviews() {
        let review = "This coffee is rich and smooth, and I would happily buy another bag of it for the office.";
        let mut texts: Vec<String> = (0..30).map(|i| format!("{review} Order {i}.")).collect();
        texts.push("   ".into());
        texts.push("Great".into());
        texts.push("Это очень хороший кофе, я куплю его снова для всей нашей семьи.".into());
        texts.push("Ce café est vraiment excellent, je vais en acheter encore pour toute la famille et mes amis.".into());
        let found = text_problems(&texts);
        assert!(
            found[..30].iter().all(Option::is_none),
            "{:?}",
            &found[..30]
        );
        assert_eq!(found[30], Some(TextProblem::Empty));
        assert!(matches!(
            found[31],
            Some(TextProblem::TooShort { words: 1, .. })
        ));
        assert!(
            matches!(&found[32], Some(TextProblem::OtherScript { script, usual }) if script == "Cyrillic" && usual == "Latin"),
            "{:?}",
            found[32]
        );
        assert!(
            matches!(&found[33], Some(TextProblem::OtherLanguage { language, .. }) if language == "French"),
            "{:?}",
            found[33]
        );
        assert!(found[31]
            .as_ref()
            .unwrap()
            .to_string()
            .contains("1 word where"));
    }

    #[test]
    fn a_mixed_set_flags_no_language() {
        let texts: Vec<String> = (0..10)
            .flat_map(|i| {
                [
                    format!("The delivery was quick and the tea tastes wonderful, number {i}."),
                    format!("La livraison était rapide et le thé est délicieux, numéro {i}."),
                ]
            })
            .collect();
        assert!(text_problems(&texts).iter().all(Option::is_none));
    }
}
