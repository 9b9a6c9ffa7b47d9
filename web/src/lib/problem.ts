// RFC 9457 problem details, as every API error is.
export type Problem = {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  correlationId?: string;
  errors?: { field: string; message: string }[];
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
  ) {
    super(problemMessage(problem, status));
  }
}

/** One sentence for the shopper. */
export function problemMessage(p: Problem | null, status: number): string {
  if (p?.errors?.length) return p.errors.map((e) => `${e.field}: ${e.message}`).join("; ");
  if (p?.detail) return p.detail;
  if (p?.title) return p.title;
  if (status === 0) return "The shop cannot be reached. Check your connection and try again.";
  return `The request failed (${status}).`;
}
