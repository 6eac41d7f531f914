import { UserError } from '../user-error.js';

/**
 * Exit codes are a contract (DESIGN.md): scripts branch on them.
 * 0 success; 1 the thing asked about is not so; 2 usage, environment or refusal;
 * 3 a condition the user asked to fail on; 70 a bug in vipkit.
 */
export const ExitCode = {
  Ok: 0,
  NotSo: 1,
  Usage: 2,
  AskedToFail: 3,
  /** A bug in vipkit (sysexits EX_SOFTWARE). */
  Internal: 70,
} as const;

/** Bad flags and refusals the command itself decides: one sentence, exit 2 (a UserError). */
export class UsageError extends UserError {
  override readonly name = 'UsageError';
}
