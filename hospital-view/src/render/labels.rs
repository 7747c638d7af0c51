//! Bilingual labels: the `(ja, en)` pairs come from [`myna_domain::labels`] (shared with
//! the patient portal); [`bi`] renders a pair side by side.

use maud::{Markup, html};
pub use myna_domain::labels::*;

/// Renders a label pair side by side; once when both are the same text.
pub fn bi((ja, en): Label) -> Markup {
    html! {
        @if ja == en {
            span.en { (en) }
        } @else {
            span.ja lang="ja" { (ja) } " " span.en lang="en" { (en) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bi_renders_a_shared_label_once() {
        assert_eq!(
            bi(("HIV", "HIV")).into_string(),
            r#"<span class="en">HIV</span>"#
        );
        assert!(bi(("陽性", "POSITIVE")).into_string().contains("陽性"));
    }
}
