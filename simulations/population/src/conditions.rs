//! The condition table: ICD-10 code, name, prevalence by age band, drugs, labs, surgery.
//!
//! Everything a condition implies for the records is data in [`CONDITIONS`]: a patient
//! with type 2 diabetes (E11) gets the diagnosis, visits to their clinic, metformin or a
//! DPP-4 inhibitor (sometimes insulin) dispensed, and HbA1c results that are often high.
//! Prevalences are per patient of this (ambulance-heavy, elderly) population, by age band
//! (see [`crate::demographics::AGE_BANDS`]), scaled by sex.

use myna_domain::identity::Sex;
use myna_domain::records::Analyte;

use crate::demographics::BAND_COUNT;
use crate::drugs::{self as d, Drug};
use crate::labs::LabEffect;

/// Where a condition is usually treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Setting {
    /// The family doctor's clinic (children: a paediatric clinic).
    Clinic,
    /// The area hospital.
    Hospital,
    /// A specialist clinic named with this suffix, e.g. "眼科".
    Specialist(&'static str),
}

/// One line of treatment: taken with `probability`, one of `options`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Regimen {
    /// Share of patients with the condition on this line of treatment.
    pub probability: f64,
    /// Alternatives; one is chosen.
    pub options: &'static [Drug],
    /// `None` for long-term drugs, else the days of one course.
    pub course_days: Option<u32>,
}

const fn long_term(probability: f64, options: &'static [Drug]) -> Regimen {
    Regimen {
        probability,
        options,
        course_days: None,
    }
}

const fn course(probability: f64, options: &'static [Drug], days: u32) -> Regimen {
    Regimen {
        probability,
        options,
        course_days: Some(days),
    }
}

/// A procedure a condition may lead to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SurgerySpec {
    /// Procedure name.
    pub procedure: &'static str,
    /// Share of patients with the condition who have it.
    pub probability: f64,
    /// Whether it needs an inpatient stay.
    pub inpatient: bool,
}

const fn surgery(
    procedure: &'static str,
    probability: f64,
    inpatient: bool,
) -> Option<SurgerySpec> {
    Some(SurgerySpec {
        procedure,
        probability,
        inpatient,
    })
}

/// One row of the condition table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Condition {
    /// ICD-10 code.
    pub icd10: &'static str,
    /// English name of the diagnosis.
    pub name: &'static str,
    /// Probability of having the condition, per age band.
    pub prevalence: [f64; BAND_COUNT],
    /// Prevalence multiplier for (male, female).
    pub sex_factor: (f64, f64),
    /// Long-term condition (active, follow-up visits, repeat dispensing) or an episode.
    pub chronic: bool,
    /// Department, e.g. "Cardiology".
    pub department: &'static str,
    /// Where it is treated.
    pub setting: Setting,
    /// Lines of treatment.
    pub regimens: &'static [Regimen],
    /// How the condition shows in lab results.
    pub labs: &'static [LabEffect],
    /// Surgery it may lead to.
    pub surgery: Option<SurgerySpec>,
    /// Probability of an inpatient stay when it starts.
    pub inpatient: f64,
    /// Whether its care includes an infection screen (HBs, HCV, syphilis, HIV).
    pub screens_infections: bool,
}

const BASE: Condition = Condition {
    icd10: "",
    name: "",
    prevalence: [0.0; BAND_COUNT],
    sex_factor: (1.0, 1.0),
    chronic: true,
    department: "Internal medicine",
    setting: Setting::Clinic,
    regimens: &[],
    labs: &[],
    surgery: None,
    inpatient: 0.0,
    screens_infections: false,
};

/// An episode (acute illness) rather than a long-term condition.
const EPISODE: Condition = Condition {
    chronic: false,
    ..BASE
};

use Analyte as A;
use LabEffect as L;

/// Conditions drawn by prevalence. Age bands: 0–14, 15–39, 40–64, 65–74, 75–84, 85+.
#[rustfmt::skip]
pub(crate) const CONDITIONS: &[Condition] = &[
    // Cardiometabolic.
    Condition { icd10: "I10", name: "Essential hypertension", prevalence: [0.0, 0.03, 0.25, 0.45, 0.55, 0.55],
        regimens: &[long_term(0.9, &[d::AMLODIPINE, d::CANDESARTAN, d::TELMISARTAN]), long_term(0.3, &[d::AMLODIPINE])], ..BASE },
    Condition { icd10: "E11", name: "Type 2 diabetes mellitus", prevalence: [0.0, 0.01, 0.10, 0.18, 0.20, 0.17], sex_factor: (1.3, 0.7),
        regimens: &[long_term(0.9, &[d::METFORMIN, d::SITAGLIPTIN, d::GLIMEPIRIDE, d::EMPAGLIFLOZIN]), long_term(0.25, &[d::INSULIN_GLARGINE, d::INSULIN_ASPART])],
        labs: &[L::raises(A::Hba1c, 0.75), L::raises(A::Glucose, 0.55)], ..BASE },
    Condition { icd10: "E78", name: "Dyslipidaemia", prevalence: [0.0, 0.02, 0.20, 0.30, 0.28, 0.18],
        regimens: &[long_term(0.85, &[d::ROSUVASTATIN, d::ATORVASTATIN])], ..BASE },
    Condition { icd10: "I48", name: "Atrial fibrillation", prevalence: [0.0, 0.001, 0.01, 0.04, 0.08, 0.10], sex_factor: (1.3, 0.7),
        department: "Cardiology", setting: Setting::Hospital,
        regimens: &[long_term(0.85, &[d::APIXABAN, d::EDOXABAN, d::RIVAROXABAN, d::WARFARIN, d::DABIGATRAN]), long_term(0.5, &[d::BISOPROLOL])],
        labs: &[L::raises(A::DDimer, 0.15)], ..BASE },
    Condition { icd10: "I25", name: "Chronic ischaemic heart disease", prevalence: [0.0, 0.001, 0.02, 0.06, 0.10, 0.12], sex_factor: (1.4, 0.6),
        department: "Cardiology", setting: Setting::Hospital,
        regimens: &[long_term(0.9, &[d::ASPIRIN, d::CLOPIDOGREL, d::PRASUGREL]), long_term(0.7, &[d::ROSUVASTATIN, d::ATORVASTATIN]), long_term(0.3, &[d::NITROGLYCERIN])],
        labs: &[L::raises(A::Ck, 0.1)], surgery: surgery("Percutaneous coronary intervention with drug-eluting stent", 0.4, true),
        screens_infections: true, ..BASE },
    Condition { icd10: "I50", name: "Chronic heart failure", prevalence: [0.0, 0.0, 0.005, 0.03, 0.07, 0.12],
        department: "Cardiology", setting: Setting::Hospital,
        regimens: &[long_term(0.85, &[d::FUROSEMIDE]), long_term(0.5, &[d::CARVEDILOL, d::BISOPROLOL]), long_term(0.35, &[d::SPIRONOLACTONE, d::SACUBITRIL_VALSARTAN])],
        labs: &[L::raises(A::Bnp, 0.85), L::raises(A::NtProBnp, 0.8), L::lowers(A::Sodium, 0.15)], inpatient: 0.4, ..BASE },
    Condition { icd10: "N18", name: "Chronic kidney disease", prevalence: [0.0, 0.005, 0.03, 0.08, 0.13, 0.18],
        department: "Nephrology", setting: Setting::Hospital,
        regimens: &[long_term(0.4, &[d::SPHERICAL_CARBON]), long_term(0.3, &[d::FEBUXOSTAT])],
        labs: &[L::raises(A::Creatinine, 0.9), L::raises(A::Bun, 0.8), L::raises(A::Potassium, 0.35), L::lowers(A::Hemoglobin, 0.45)], ..BASE },
    Condition { icd10: "M10", name: "Gout", prevalence: [0.0, 0.01, 0.03, 0.04, 0.03, 0.02], sex_factor: (1.9, 0.1),
        regimens: &[long_term(0.8, &[d::FEBUXOSTAT, d::ALLOPURINOL])], ..BASE },
    Condition { icd10: "E03.9", name: "Hypothyroidism", prevalence: [0.001, 0.005, 0.01, 0.02, 0.02, 0.02], sex_factor: (0.4, 1.6),
        regimens: &[long_term(0.9, &[d::LEVOTHYROXINE])], ..BASE },
    Condition { icd10: "D50.9", name: "Iron deficiency anaemia", prevalence: [0.005, 0.03, 0.03, 0.02, 0.03, 0.04], sex_factor: (0.5, 1.5),
        regimens: &[long_term(0.8, &[d::FERROUS_CITRATE])], labs: &[L::lowers(A::Hemoglobin, 0.8)], ..BASE },
    Condition { icd10: "I80.2", name: "Deep vein thrombosis", prevalence: [0.0, 0.001, 0.002, 0.004, 0.006, 0.006],
        department: "Cardiology", setting: Setting::Hospital,
        regimens: &[long_term(0.9, &[d::EDOXABAN, d::RIVAROXABAN, d::APIXABAN])], labs: &[L::raises(A::DDimer, 0.6)], inpatient: 0.3, ..BASE },
    // Lungs and allergy.
    Condition { icd10: "J44", name: "Chronic obstructive pulmonary disease", prevalence: [0.0, 0.0, 0.01, 0.04, 0.06, 0.06], sex_factor: (1.6, 0.4),
        department: "Respiratory medicine", setting: Setting::Hospital,
        regimens: &[long_term(0.85, &[d::TIOTROPIUM, d::UMECLIDINIUM_VILANTEROL])], labs: &[L::raises(A::Crp, 0.2)], ..BASE },
    Condition { icd10: "J45", name: "Bronchial asthma", prevalence: [0.06, 0.04, 0.03, 0.03, 0.03, 0.03],
        regimens: &[long_term(0.8, &[d::BUDESONIDE_FORMOTEROL]), long_term(0.4, &[d::MONTELUKAST])], ..BASE },
    Condition { icd10: "J30.4", name: "Allergic rhinitis", prevalence: [0.10, 0.10, 0.08, 0.04, 0.03, 0.02],
        department: "Otorhinolaryngology", setting: Setting::Specialist("耳鼻咽喉科"),
        regimens: &[long_term(0.8, &[d::FEXOFENADINE])], ..BASE },
    // Brain and mind.
    Condition { icd10: "I69.3", name: "Sequelae of cerebral infarction", prevalence: [0.0, 0.0, 0.01, 0.03, 0.06, 0.08],
        department: "Neurology", setting: Setting::Hospital,
        regimens: &[long_term(0.85, &[d::CLOPIDOGREL, d::CILOSTAZOL, d::ASPIRIN]), long_term(0.5, &[d::ROSUVASTATIN, d::ATORVASTATIN])],
        inpatient: 0.7, screens_infections: true, ..BASE },
    Condition { icd10: "G30.9", name: "Alzheimer's disease", prevalence: [0.0, 0.0, 0.001, 0.03, 0.12, 0.30],
        department: "Neurology", setting: Setting::Hospital, regimens: &[long_term(0.8, &[d::DONEPEZIL, d::MEMANTINE])], ..BASE },
    Condition { icd10: "G40.9", name: "Epilepsy", prevalence: [0.006, 0.008, 0.008, 0.01, 0.01, 0.01],
        department: "Neurology", setting: Setting::Hospital, regimens: &[long_term(0.9, &[d::LEVETIRACETAM, d::VALPROATE])], ..BASE },
    Condition { icd10: "F32.9", name: "Depressive episode", prevalence: [0.0, 0.03, 0.03, 0.02, 0.02, 0.02],
        department: "Psychiatry", setting: Setting::Specialist("こころのクリニック"),
        regimens: &[long_term(0.85, &[d::ESCITALOPRAM, d::SERTRALINE])], ..BASE },
    Condition { icd10: "G47.0", name: "Insomnia", prevalence: [0.0, 0.02, 0.05, 0.10, 0.15, 0.20],
        regimens: &[long_term(0.9, &[d::BROTIZOLAM, d::LEMBOREXANT])], ..BASE },
    // Stomach, bones, joints, urinary tract, eyes.
    Condition { icd10: "K21.9", name: "Gastro-oesophageal reflux disease", prevalence: [0.01, 0.05, 0.08, 0.10, 0.12, 0.12],
        regimens: &[long_term(0.9, &[d::VONOPRAZAN, d::LANSOPRAZOLE, d::FAMOTIDINE])], ..BASE },
    Condition { icd10: "M81.0", name: "Postmenopausal osteoporosis", prevalence: [0.0, 0.0, 0.02, 0.08, 0.15, 0.20], sex_factor: (0.2, 1.8),
        department: "Orthopaedic surgery", setting: Setting::Specialist("整形外科"),
        regimens: &[long_term(0.7, &[d::ALENDRONATE]), long_term(0.4, &[d::ELDECALCITOL])], ..BASE },
    Condition { icd10: "M17.9", name: "Osteoarthritis of knee", prevalence: [0.0, 0.0, 0.03, 0.10, 0.15, 0.15], sex_factor: (0.6, 1.4),
        department: "Orthopaedic surgery", setting: Setting::Specialist("整形外科"),
        regimens: &[long_term(0.7, &[d::LOXOPROFEN, d::CELECOXIB, d::ACETAMINOPHEN])],
        surgery: surgery("Total knee arthroplasty", 0.05, true), screens_infections: true, ..BASE },
    Condition { icd10: "N40", name: "Benign prostatic hyperplasia", prevalence: [0.0, 0.0, 0.03, 0.12, 0.20, 0.25], sex_factor: (2.0, 0.0),
        department: "Urology", setting: Setting::Specialist("泌尿器科"), regimens: &[long_term(0.85, &[d::TAMSULOSIN, d::SILODOSIN])], ..BASE },
    Condition { icd10: "C18.9", name: "Malignant neoplasm of colon", prevalence: [0.0, 0.001, 0.005, 0.015, 0.02, 0.02],
        department: "Gastroenterological surgery", setting: Setting::Hospital, labs: &[L::lowers(A::Hemoglobin, 0.3)],
        surgery: surgery("Laparoscopic colectomy", 0.8, true), screens_infections: true, ..BASE },
    Condition { icd10: "H25.9", name: "Senile cataract", prevalence: [0.0, 0.0, 0.01, 0.10, 0.15, 0.10],
        department: "Ophthalmology", setting: Setting::Specialist("眼科"),
        surgery: surgery("Phacoemulsification with intraocular lens implantation", 0.6, false), screens_infections: true, ..EPISODE },
    // Episodes.
    Condition { icd10: "J18.9", name: "Pneumonia", prevalence: [0.03, 0.01, 0.01, 0.03, 0.06, 0.10],
        department: "Respiratory medicine", setting: Setting::Hospital,
        regimens: &[course(0.9, &[d::LEVOFLOXACIN, d::AMOXICILLIN_CLAVULANATE], 7)],
        labs: &[L::raises(A::Crp, 0.85), L::raises(A::Wbc, 0.6)], inpatient: 0.45, screens_infections: true, ..EPISODE },
    Condition { icd10: "J06.9", name: "Acute upper respiratory infection", prevalence: [0.25, 0.10, 0.06, 0.05, 0.05, 0.05],
        regimens: &[course(0.7, &[d::ACETAMINOPHEN], 5), course(0.5, &[d::CARBOCISTEINE], 5)], ..EPISODE },
    Condition { icd10: "J11.1", name: "Influenza", prevalence: [0.12, 0.05, 0.03, 0.03, 0.03, 0.03],
        regimens: &[course(0.8, &[d::OSELTAMIVIR], 5), course(0.4, &[d::ACETAMINOPHEN], 5)], ..EPISODE },
    Condition { icd10: "A09", name: "Infectious gastroenteritis", prevalence: [0.10, 0.04, 0.02, 0.02, 0.02, 0.03],
        regimens: &[course(0.7, &[d::LACTIC_ACID_BACTERIA], 5)], ..EPISODE },
    Condition { icd10: "N39.0", name: "Urinary tract infection", prevalence: [0.01, 0.02, 0.02, 0.03, 0.05, 0.08], sex_factor: (0.4, 1.6),
        regimens: &[course(0.9, &[d::CEFCAPENE, d::LEVOFLOXACIN], 5)], labs: &[L::raises(A::Crp, 0.5), L::raises(A::Wbc, 0.3)], ..EPISODE },
    Condition { icd10: "R56.0", name: "Febrile convulsion", prevalence: [0.03, 0.0, 0.0, 0.0, 0.0, 0.0],
        department: "Paediatrics", setting: Setting::Hospital, regimens: &[course(0.6, &[d::DIAZEPAM_SUPPOSITORY], 2)], ..EPISODE },
    Condition { icd10: "S72.0", name: "Fracture of neck of femur", prevalence: [0.0, 0.0, 0.001, 0.005, 0.015, 0.04], sex_factor: (0.6, 1.4),
        department: "Orthopaedic surgery", setting: Setting::Hospital, labs: &[L::lowers(A::Hemoglobin, 0.4), L::raises(A::DDimer, 0.4)],
        surgery: surgery("Bipolar hemiarthroplasty of hip", 0.9, true), inpatient: 1.0, screens_infections: true, ..EPISODE },
    Condition { icd10: "K35.8", name: "Acute appendicitis", prevalence: [0.01, 0.008, 0.003, 0.002, 0.001, 0.001],
        department: "Surgery", setting: Setting::Hospital, labs: &[L::raises(A::Wbc, 0.8), L::raises(A::Crp, 0.7)],
        regimens: &[course(0.3, &[d::CEFCAPENE], 3)],
        surgery: surgery("Laparoscopic appendectomy", 0.8, true), inpatient: 1.0, screens_infections: true, ..EPISODE },
    Condition { icd10: "K80.2", name: "Cholelithiasis", prevalence: [0.0, 0.005, 0.02, 0.03, 0.03, 0.03],
        department: "Surgery", setting: Setting::Hospital, labs: &[L::raises(A::Ast, 0.3), L::raises(A::Alt, 0.3)],
        surgery: surgery("Laparoscopic cholecystectomy", 0.5, true), screens_infections: true, ..EPISODE },
    Condition { icd10: "T67.0", name: "Heatstroke", prevalence: [0.005, 0.005, 0.005, 0.01, 0.015, 0.02],
        department: "Emergency medicine", setting: Setting::Hospital,
        labs: &[L::raises(A::Ck, 0.5), L::raises(A::Sodium, 0.3), L::raises(A::Bun, 0.4), L::raises(A::Creatinine, 0.3)], inpatient: 0.3, ..EPISODE },
];

/// Conditions that follow a positive infection test instead of a prevalence draw.
#[rustfmt::skip]
pub(crate) const INFECTION_CONDITIONS: &[Condition] = &[
    Condition { icd10: "B18.1", name: "Chronic viral hepatitis B", department: "Gastroenterology", setting: Setting::Hospital,
        regimens: &[long_term(0.6, &[d::ENTECAVIR])], labs: &[L::raises(A::Alt, 0.3), L::raises(A::Ast, 0.25)], screens_infections: true, ..BASE },
    Condition { icd10: "B18.2", name: "Chronic viral hepatitis C", department: "Gastroenterology", setting: Setting::Hospital,
        regimens: &[course(0.5, &[d::SOFOSBUVIR_VELPATASVIR], 84)], labs: &[L::raises(A::Alt, 0.35), L::raises(A::Ast, 0.35), L::lowers(A::Platelets, 0.2)],
        screens_infections: true, ..BASE },
    Condition { icd10: "A53.9", name: "Syphilis", regimens: &[course(0.9, &[d::AMOXICILLIN], 28)], screens_infections: true, ..EPISODE },
    Condition { icd10: "B24", name: "Human immunodeficiency virus disease", department: "Infectious diseases", setting: Setting::Hospital,
        regimens: &[long_term(0.95, &[d::BICTEGRAVIR_COMBINATION])], screens_infections: true, ..BASE },
];

/// The infection-linked condition with ICD-10 code `icd10`.
pub(crate) fn infection_condition(icd10: &str) -> Option<&'static Condition> {
    INFECTION_CONDITIONS.iter().find(|c| c.icd10 == icd10)
}

/// The conditions a patient of `sex` in age band `band` has, drawn by prevalence.
pub(crate) fn draw(
    rng: &mut crate::random::PatientRng,
    band: usize,
    sex: Sex,
) -> Vec<&'static Condition> {
    CONDITIONS
        .iter()
        .filter(|c| {
            let factor = match sex {
                Sex::Male => c.sex_factor.0,
                Sex::Female => c.sex_factor.1,
                Sex::NotApplicable => 1.0,
            };
            let p = c.prevalence.get(band).copied().unwrap_or(0.0) * factor;
            crate::random::chance(rng, p)
        })
        .collect()
}

/// The most common episode, given to patients the prevalence draw left without history.
pub(crate) fn fallback_episode() -> &'static Condition {
    CONDITIONS
        .iter()
        .find(|c| c.icd10 == "J06.9")
        .unwrap_or(&CONDITIONS[0])
}
