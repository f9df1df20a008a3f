/**
 * MMLU's 57 subjects and their four top-level categories, as Hendrycks et al. group them
 * (`categories.py` of hendrycks/test: subject → subcategory → category). The reporter uses this to print
 * STEM / humanities / social sciences / other averages; the adapter does not depend on it.
 */

export const MMLU_CATEGORIES = ['STEM', 'humanities', 'social sciences', 'other'] as const;
export type MmluCategory = (typeof MMLU_CATEGORIES)[number];

/** Hendrycks' subcategory → category ("other" is his "other (business, health, misc.)"). */
const SUBCATEGORY_TO_CATEGORY: Record<string, MmluCategory> = {
  physics: 'STEM',
  chemistry: 'STEM',
  biology: 'STEM',
  'computer science': 'STEM',
  math: 'STEM',
  engineering: 'STEM',
  history: 'humanities',
  philosophy: 'humanities',
  law: 'humanities',
  politics: 'social sciences',
  culture: 'social sciences',
  economics: 'social sciences',
  geography: 'social sciences',
  psychology: 'social sciences',
  other: 'other',
  business: 'other',
  health: 'other',
};

/** Subject → Hendrycks' subcategory. */
export const MMLU_SUBCATEGORIES: Readonly<Record<string, string>> = {
  abstract_algebra: 'math',
  anatomy: 'health',
  astronomy: 'physics',
  business_ethics: 'business',
  clinical_knowledge: 'health',
  college_biology: 'biology',
  college_chemistry: 'chemistry',
  college_computer_science: 'computer science',
  college_mathematics: 'math',
  college_medicine: 'health',
  college_physics: 'physics',
  computer_security: 'computer science',
  conceptual_physics: 'physics',
  econometrics: 'economics',
  electrical_engineering: 'engineering',
  elementary_mathematics: 'math',
  formal_logic: 'philosophy',
  global_facts: 'other',
  high_school_biology: 'biology',
  high_school_chemistry: 'chemistry',
  high_school_computer_science: 'computer science',
  high_school_european_history: 'history',
  high_school_geography: 'geography',
  high_school_government_and_politics: 'politics',
  high_school_macroeconomics: 'economics',
  high_school_mathematics: 'math',
  high_school_microeconomics: 'economics',
  high_school_physics: 'physics',
  high_school_psychology: 'psychology',
  high_school_statistics: 'math',
  high_school_us_history: 'history',
  high_school_world_history: 'history',
  human_aging: 'health',
  human_sexuality: 'culture',
  international_law: 'law',
  jurisprudence: 'law',
  logical_fallacies: 'philosophy',
  machine_learning: 'computer science',
  management: 'business',
  marketing: 'business',
  medical_genetics: 'health',
  miscellaneous: 'other',
  moral_disputes: 'philosophy',
  moral_scenarios: 'philosophy',
  nutrition: 'health',
  philosophy: 'philosophy',
  prehistory: 'history',
  professional_accounting: 'other',
  professional_law: 'law',
  professional_medicine: 'health',
  professional_psychology: 'psychology',
  public_relations: 'politics',
  security_studies: 'politics',
  sociology: 'culture',
  us_foreign_policy: 'politics',
  virology: 'health',
  world_religions: 'philosophy',
};

/** The 57 subjects of the upstream data, sorted. */
export const MMLU_SUBJECTS: readonly string[] = Object.keys(MMLU_SUBCATEGORIES).sort();

/** Subject → category, for all 57 subjects. */
export const MMLU_SUBJECT_CATEGORY: Readonly<Record<string, MmluCategory>> = Object.fromEntries(
  Object.entries(MMLU_SUBCATEGORIES).map(([subject, sub]) => [subject, SUBCATEGORY_TO_CATEGORY[sub]!]),
);

/** The category of a subject; undefined for a subject that is not one of the 57 (e.g. test fixtures). */
export function mmluCategory(subject: string): MmluCategory | undefined {
  return Object.hasOwn(MMLU_SUBJECT_CATEGORY, subject) ? MMLU_SUBJECT_CATEGORY[subject] : undefined;
}
