//! The document being built: its entries, and the Composition section each is listed in.

use fhir_model::r4b::resources::{BundleEntry, Resource};
use fhir_model::r4b::types::Reference;
use uuid::Uuid;

use super::elements::reference;
use super::error::Result;

/// A section of the Composition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    Allergies,
    Medications,
    Problems,
    Results,
    Procedures,
    VitalSigns,
    PastIllness,
    Encounters,
}

impl Section {
    /// In document order.
    pub(super) const ALL: [Section; 8] = [
        Section::Allergies,
        Section::Medications,
        Section::Problems,
        Section::Results,
        Section::Procedures,
        Section::VitalSigns,
        Section::PastIllness,
        Section::Encounters,
    ];

    /// LOINC code and display, and title.
    pub(super) fn code(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Section::Allergies => (
                "48765-2",
                "Allergies and adverse reactions Document",
                "Allergies and intolerances (アレルギー)",
            ),
            Section::Medications => (
                "10160-0",
                "History of Medication use Narrative",
                "Medication summary (薬剤情報・処方)",
            ),
            Section::Problems => (
                "11450-4",
                "Problem list - Reported",
                "Problem list (傷病名)",
            ),
            Section::Results => (
                "30954-2",
                "Relevant diagnostic tests/laboratory data Narrative",
                "Results (検査結果・感染症・特定健診)",
            ),
            Section::Procedures => (
                "47519-4",
                "History of Procedures Document",
                "History of procedures (手術)",
            ),
            Section::VitalSigns => (
                "8716-3",
                "Vital signs",
                "Vital signs by the crew (救急隊測定)",
            ),
            Section::PastIllness => (
                "11348-0",
                "History of Past illness Narrative",
                "History of past illness (既往症)",
            ),
            Section::Encounters => (
                "46240-8",
                "History of Hospitalizations+Outpatient visits Narrative",
                "Visits (受診歴)",
            ),
        }
    }

    /// IPS requires these sections even when they have no entry.
    pub(super) fn required(self) -> bool {
        matches!(
            self,
            Section::Allergies | Section::Medications | Section::Problems
        )
    }
}

/// The entries after the Composition, and what each section lists.
pub(super) struct Document {
    pub(super) handoff: Uuid,
    pub(super) entries: Vec<BundleEntry>,
    /// (section, reference to the entry, narrative line)
    pub(super) items: Vec<(Section, Reference, String)>,
}

impl Document {
    /// The `urn:uuid:` of entry `index` (0: the Composition), derived from the handoff.
    pub(super) fn full_url(&self, index: usize) -> String {
        let uuid = Uuid::new_v5(&self.handoff, format!("entry/{index}").as_bytes());
        format!("urn:uuid:{uuid}")
    }

    /// Adds the resource `build` makes from its id, listed in `section` with a narrative
    /// line; returns a reference to it.
    pub(super) fn add<R: Into<Resource>>(
        &mut self,
        section: Option<(Section, String)>,
        build: impl FnOnce(String) -> Result<R>,
    ) -> Result<Reference> {
        let full_url = self.full_url(self.entries.len() + 1);
        let id = full_url.trim_start_matches("urn:uuid:").to_owned();
        let entry = BundleEntry::builder()
            .full_url(full_url.clone())
            .resource(build(id)?.into())
            .build()?;
        self.entries.push(entry);
        let reference = reference(&full_url)?;
        if let Some((section, line)) = section {
            self.items.push((section, reference.clone(), line));
        }
        Ok(reference)
    }
}
