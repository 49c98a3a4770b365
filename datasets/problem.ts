/** One training or evaluation prompt with its ground truth, whatever file or generator it came from. */
export interface Problem {
  id: string;
  prompt: string;
  answer: string;
  /** Selects the verifier mode per dataset (e.g. strict-box for DAPO data). */
  dataSource: string;
}
