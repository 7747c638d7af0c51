//! One patient's medical history, assembled from the tables.
//!
//! [`records`] walks the patient's conditions ([`crate::conditions`]) and turns each into
//! a diagnosis, visits, dispensed drugs and e-prescriptions, perhaps a surgery, and the
//! lab effects that later blood tests show. Then come routine blood tests, blood group,
//! checkups, allergies, infection screens, and now and then a duplicate-medication case
//! or an NSAID given to a patient on an anticoagulant (a contraindication).
//! All dates fall between the start of the history (about six years back, or birth)
//! and `today`, so retention rules (5 years; 1 year or last 3; 100 days or last 3)
//! have old records to drop.

use chrono::NaiveDate;
use myna_domain::records::{
    Analyte, Diagnosis, DrugClass, MedicalRecord, Medication, RecordSource, Surgery, Visit,
};
use rand::Rng;
use rand::seq::SliceRandom;

use crate::allergies;
use crate::checkups::{self, Risk};
use crate::conditions::{self, Condition, Setting};
use crate::demographics::band_of;
use crate::drugs::{self, Drug};
use crate::infections::Carrier;
use crate::labs::{self, LabEffect};
use crate::names::{Area, Institutions};
use crate::random::{PatientRng, chance, date_between, date_within, days_after, days_before, pick};

/// Days of history generated (about six years).
pub(crate) const HISTORY_DAYS: u64 = 6 * 365 + 1;

/// Share of diagnoses coming from claims rather than EHR sharing.
const CLAIMS_DIAGNOSIS_SHARE: f64 = 0.75;

/// Share of recent dispensings that were prescribed through the e-prescription service.
const E_PRESCRIPTION_SHARE: f64 = 0.55;

/// Prescriptions are e-prescriptions only within this many days (their retention).
const E_PRESCRIPTION_DAYS: i64 = 100;

/// Share of long-term drug takers with a duplicate-medication case (重複投薬).
const DUPLICATE_SHARE: f64 = 0.04;

/// Share of patients on an anticoagulant who also get an NSAID for pain from another
/// clinic while taking it (抗凝固薬 + NSAIDs: a bleeding-risk contraindication).
const NSAID_WITH_ANTICOAGULANT_SHARE: f64 = 0.15;

/// The NSAIDs that clinic prescribes.
const PAIN_NSAIDS: &[Drug] = &[drugs::LOXOPROFEN, drugs::CELECOXIB];

/// Share of patients with a blood group on record.
const BLOOD_GROUP_SHARE: f64 = 0.85;

/// Share of long-term drugs still being taken (dispensed in the last 12 weeks).
const STILL_TAKING: f64 = 0.8;

/// Days supplied per long-term dispensing.
const LONG_TERM_DAYS: &[u32] = &[14, 28, 28, 30, 56, 84, 90];

/// Infection screens kept per patient (the most recent).
const MAX_SCREENS: usize = 1;

/// Conditions kept per patient, so a multimorbid patient stays within about 40 records.
const MAX_CONDITIONS: usize = 6;

/// Who the history belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Person {
    /// Age on `today`.
    pub age: u32,
    /// Sex.
    pub sex: myna_domain::identity::Sex,
    /// Date of birth.
    pub birth_date: NaiveDate,
}

/// A long-term drug the patient takes.
#[derive(Debug, Clone, Copy)]
struct LongTermDrug {
    drug: Drug,
    brand: bool,
    latest: NaiveDate,
    days: u32,
}

/// The records of one patient, oldest first.
pub(crate) fn records(
    rng: &mut PatientRng,
    person: Person,
    area: &Area,
    today: NaiveDate,
) -> Vec<MedicalRecord> {
    let places = Institutions::new(rng, area);
    let start = days_before(today, HISTORY_DAYS).max(person.birth_date);
    let carrier = Carrier::draw(rng);
    let mut chosen = conditions::draw(rng, band_of(person.age), person.sex);
    if chosen.len() > MAX_CONDITIONS {
        chosen.shuffle(rng);
        chosen.truncate(MAX_CONDITIONS);
    }
    chosen.extend(
        carrier
            .diagnoses()
            .into_iter()
            .filter_map(conditions::infection_condition),
    );
    if chosen.is_empty() {
        chosen.push(conditions::fallback_episode());
    }
    let mut history = History {
        rng,
        person,
        today,
        start,
        places,
        records: Vec::new(),
        effects: Vec::new(),
        episode_tests: Vec::new(),
        screens: Vec::new(),
        long_term: Vec::new(),
    };
    for condition in &chosen {
        history.condition(condition);
    }
    history.blood_tests(chosen.iter().filter(|c| c.chronic).count());
    let has = |code: &str| chosen.iter().any(|c| c.icd10 == code);
    let risk = Risk {
        hypertension: has("I10"),
        diabetes: has("E11"),
        dyslipidaemia: has("E78"),
    };
    history.records.extend(checkups::draw(
        history.rng,
        person.birth_date,
        risk,
        start,
        today,
    ));
    history
        .records
        .extend(allergies::draw(history.rng, person.age, start, today));
    history.infection_screens(&carrier);
    history.duplicate_medication();
    history.nsaid_with_anticoagulant();
    let mut records = history.records;
    records.sort_by_key(|r| (r.date(), r.kind()));
    records
}

/// Working state while one patient's records are generated.
struct History<'r> {
    rng: &'r mut PatientRng,
    person: Person,
    today: NaiveDate,
    start: NaiveDate,
    places: Institutions,
    records: Vec<MedicalRecord>,
    /// Lab effects of long-term conditions and drugs, from the date they start.
    effects: Vec<(NaiveDate, LabEffect)>,
    /// Blood tests taken when an episode started, with the episode's effects.
    episode_tests: Vec<(NaiveDate, &'static [LabEffect])>,
    /// Dates of admissions and operations, when infections are screened.
    screens: Vec<NaiveDate>,
    long_term: Vec<LongTermDrug>,
}

impl History<'_> {
    /// Diagnosis, visits, surgery and drugs of one condition.
    fn condition(&mut self, c: &'static Condition) {
        let latest_onset = if c.chronic {
            days_before(self.today, 30).max(self.start)
        } else {
            self.today
        };
        let onset = date_between(self.rng, self.start, latest_onset);
        let source = if chance(self.rng, CLAIMS_DIAGNOSIS_SHARE) {
            RecordSource::Claims
        } else {
            RecordSource::EhrSharing
        };
        self.records.push(MedicalRecord::Diagnosis(Diagnosis {
            name: c.name.to_string(),
            icd10: c.icd10.to_string(),
            recorded_on: onset,
            active: c.chronic || (self.today - onset).num_days() <= 30,
            source,
        }));
        let (institution, department) = self.place(c);
        let admitted = chance(self.rng, c.inpatient);
        let first_place = if admitted {
            self.places.hospital.clone()
        } else {
            institution.clone()
        };
        self.visit(&first_place, department, onset, admitted);
        if admitted || c.screens_infections {
            self.screens.push(onset);
        }
        if c.chronic {
            if chance(self.rng, 0.25) {
                let date = date_between(self.rng, onset, self.today);
                self.visit(&institution, department, date, false);
            }
            if chance(self.rng, 0.7) {
                let date = date_within(self.rng, self.today, 90, onset);
                self.visit(&institution, department, date, false);
            }
            self.effects.extend(c.labs.iter().map(|e| (onset, *e)));
        } else if admitted || !c.labs.is_empty() {
            self.episode_tests.push((onset, c.labs));
        }
        self.surgery(c, onset, &institution, department);
        let pharmacy = match c.setting {
            Setting::Hospital => self.places.hospital_pharmacy.clone(),
            Setting::Clinic | Setting::Specialist(_) => self.places.pharmacy.clone(),
        };
        for regimen in c.regimens {
            if !chance(self.rng, regimen.probability) {
                continue;
            }
            let drug = *pick(self.rng, regimen.options);
            match regimen.course_days {
                None => self.long_term_drug(drug, onset, &institution, &pharmacy),
                Some(days) => self.course(drug, days, onset, &institution, &pharmacy),
            }
        }
    }

    /// Where condition `c` is treated, and the department.
    fn place(&self, c: &Condition) -> (String, &'static str) {
        match c.setting {
            Setting::Clinic if self.person.age < 15 => {
                (self.places.specialist("こどもクリニック"), "Paediatrics")
            }
            Setting::Clinic => (self.places.clinic.clone(), c.department),
            Setting::Hospital => (self.places.hospital.clone(), c.department),
            Setting::Specialist(suffix) => (self.places.specialist(suffix), c.department),
        }
    }

    fn visit(&mut self, institution: &str, department: &str, date: NaiveDate, inpatient: bool) {
        self.records.push(MedicalRecord::Visit(Visit {
            institution: institution.to_string(),
            department: department.to_string(),
            date,
            inpatient,
        }));
    }

    /// The condition's operation, if the patient had it.
    fn surgery(&mut self, c: &Condition, onset: NaiveDate, institution: &str, department: &str) {
        let Some(spec) = c.surgery else { return };
        if !chance(self.rng, spec.probability) {
            return;
        }
        let latest = if c.chronic {
            self.today
        } else {
            days_after(onset, 30).min(self.today)
        };
        let date = date_between(self.rng, onset, latest);
        let place = match c.setting {
            Setting::Specialist(_) if !spec.inpatient => institution.to_string(),
            _ => self.places.hospital.clone(),
        };
        self.records.push(MedicalRecord::Surgery(Surgery {
            procedure: spec.procedure.to_string(),
            date,
            institution: place.clone(),
        }));
        if spec.inpatient {
            self.visit(&place, department, date, true);
        }
        self.screens.push(date);
    }

    /// Repeat dispensings of a long-term drug, the newest perhaps e-prescribed.
    fn long_term_drug(&mut self, drug: Drug, onset: NaiveDate, prescriber: &str, pharmacy: &str) {
        if self
            .long_term
            .iter()
            .any(|t| t.drug.ingredient == drug.ingredient)
        {
            return; // Already taken for another condition.
        }
        let brand = self.rng.random_bool(0.5);
        let latest = if chance(self.rng, STILL_TAKING) {
            date_within(self.rng, self.today, 84, onset)
        } else {
            date_between(self.rng, onset, self.today)
        };
        let days = *pick(self.rng, LONG_TERM_DAYS);
        self.dispense(drug, brand, latest, days, pharmacy);
        if self.rng.random_bool(0.5) {
            let earlier = date_between(self.rng, onset, latest);
            let earlier_days = *pick(self.rng, LONG_TERM_DAYS);
            self.dispense(drug, brand, earlier, earlier_days, pharmacy);
        }
        self.e_prescription(drug, brand, latest, days, prescriber);
        if let Some(effect) = drug.effect {
            self.effects.push((onset, effect));
        }
        self.long_term.push(LongTermDrug {
            drug,
            brand,
            latest,
            days,
        });
    }

    /// One course of a drug for an episode.
    fn course(&mut self, drug: Drug, days: u32, date: NaiveDate, prescriber: &str, pharmacy: &str) {
        let brand = self.rng.random_bool(0.5);
        self.dispense(drug, brand, date, days, pharmacy);
        self.e_prescription(drug, brand, date, days, prescriber);
    }

    fn dispense(&mut self, drug: Drug, brand: bool, date: NaiveDate, days: u32, pharmacy: &str) {
        let record = medication(drug, brand, date, days, pharmacy, RecordSource::Claims);
        self.records.push(MedicalRecord::DrugInformation(record));
    }

    /// The prescription behind a recent dispensing, if it went through the e-prescription
    /// service (only the last 100 days are there).
    fn e_prescription(
        &mut self,
        drug: Drug,
        brand: bool,
        date: NaiveDate,
        days: u32,
        prescriber: &str,
    ) {
        let recent = (self.today - date).num_days() <= E_PRESCRIPTION_DAYS;
        if recent && chance(self.rng, E_PRESCRIPTION_SHARE) {
            let record = medication(
                drug,
                brand,
                date,
                days,
                prescriber,
                RecordSource::EPrescription,
            );
            self.records.push(MedicalRecord::Prescription(record));
        }
    }

    /// Routine blood tests, tests at the start of episodes, and the blood group.
    fn blood_tests(&mut self, chronic_count: usize) {
        let age = self.person.age;
        let routine = match age {
            0..15 => usize::from(chance(self.rng, 0.3)),
            15..65 => usize::from(chance(self.rng, 0.6)) + usize::from(chronic_count > 0),
            _ => 1 + usize::from(chronic_count > 1 && chance(self.rng, 0.5)),
        };
        let mut dates = Vec::with_capacity(routine + self.episode_tests.len());
        for i in 0..routine {
            let date = if i == 0 && chance(self.rng, 0.7) {
                date_within(self.rng, self.today, 365, self.start)
            } else {
                date_between(self.rng, self.start, self.today)
            };
            let effects = self.effects_on(date, &[]);
            let mut panel: Vec<Analyte> = labs::CORE_PANEL.to_vec();
            panel.extend(effects.iter().map(|e| e.analyte));
            panel.push(labs::extra_analyte(self.rng));
            self.records
                .extend(labs::draw(self.rng, date, &panel, &effects));
            dates.push(date);
        }
        for (date, episode) in std::mem::take(&mut self.episode_tests) {
            let effects = self.effects_on(date, episode);
            let mut panel: Vec<Analyte> = labs::ACUTE_PANEL.to_vec();
            panel.extend(episode.iter().map(|e| e.analyte));
            self.records
                .extend(labs::draw(self.rng, date, &panel, &effects));
            dates.push(date);
        }
        if chance(self.rng, BLOOD_GROUP_SHARE) {
            let date = match dates.iter().chain(&self.screens).max() {
                Some(date) => *date,
                None => date_between(self.rng, self.start, self.today),
            };
            self.records.extend(labs::blood_group(self.rng, date));
        }
    }

    /// Effects in force on `date`: an episode's own, then long-term ones already started.
    fn effects_on(&self, date: NaiveDate, episode: &[LabEffect]) -> Vec<LabEffect> {
        let mut effects = episode.to_vec();
        effects.extend(
            self.effects
                .iter()
                .filter(|(since, _)| *since <= date)
                .map(|(_, e)| *e),
        );
        effects
    }

    /// Infection screens at admissions and operations (the most recent few), sometimes
    /// one before an endoscopy for patients with none.
    fn infection_screens(&mut self, carrier: &Carrier) {
        let mut dates = std::mem::take(&mut self.screens);
        if dates.is_empty() && chance(self.rng, 0.15) {
            dates.push(date_between(self.rng, self.start, self.today));
        }
        dates.sort_unstable();
        dates.dedup();
        let keep_from = dates.len().saturating_sub(MAX_SCREENS);
        for date in &dates[keep_from..] {
            self.records.extend(carrier.screen(self.rng, *date));
        }
    }

    /// Sometimes: the same ingredient under the other label, from a clinic and pharmacy
    /// elsewhere, overlapping a long-term drug (what duplicate-medication checks catch).
    fn duplicate_medication(&mut self) {
        if self.long_term.is_empty() || !chance(self.rng, DUPLICATE_SHARE) {
            return;
        }
        let original = *pick(self.rng, &self.long_term);
        let (clinic, pharmacy) = Institutions::elsewhere(self.rng);
        let overlap_end = days_after(original.latest, u64::from(original.days)).min(self.today);
        let from = days_before(original.latest, 14).max(self.start);
        let date = date_between(self.rng, from, overlap_end);
        self.visit(&clinic, "Internal medicine", date, false);
        let days = *pick(self.rng, &[14, 28, 30]);
        self.dispense(original.drug, !original.brand, date, days, &pharmacy);
        self.e_prescription(original.drug, !original.brand, date, days, &clinic);
    }

    /// Sometimes, for a patient on an anticoagulant: a short NSAID course for pain from
    /// an orthopaedic clinic and pharmacy elsewhere, during the anticoagulant's latest
    /// supply (what the NSAID + anticoagulant contraindication check catches). Patients
    /// without an anticoagulant draw nothing here, so their records do not change.
    fn nsaid_with_anticoagulant(&mut self) {
        let anticoagulants: Vec<LongTermDrug> = self
            .long_term
            .iter()
            .filter(|l| l.drug.class == DrugClass::Anticoagulant)
            .copied()
            .collect();
        if anticoagulants.is_empty() || !chance(self.rng, NSAID_WITH_ANTICOAGULANT_SHARE) {
            return;
        }
        let anticoagulant = *pick(self.rng, &anticoagulants);
        let (clinic, pharmacy) = Institutions::elsewhere(self.rng);
        let supply_end =
            days_after(anticoagulant.latest, u64::from(anticoagulant.days)).min(self.today);
        let date = date_between(self.rng, anticoagulant.latest, supply_end);
        self.visit(&clinic, "Orthopaedic surgery", date, false);
        let drug = *pick(self.rng, PAIN_NSAIDS);
        let days = *pick(self.rng, &[7, 14]);
        self.course(drug, days, date, &clinic, &pharmacy);
    }
}

/// A dispensed drug or prescription record.
fn medication(
    drug: Drug,
    brand: bool,
    date: NaiveDate,
    days: u32,
    institution: &str,
    source: RecordSource,
) -> Medication {
    Medication {
        drug: if brand { drug.brand } else { drug.generic }.to_string(),
        ingredient: drug.ingredient.to_string(),
        class: drug.class,
        dosage: drug.dosage.to_string(),
        days_supplied: days,
        date,
        institution: institution.to_string(),
        source,
    }
}
