import { UserError } from '../user-error.js';

/**
 * Why a link could not be opened or used. Each message is one sentence a user can act on;
 * the CLI prints it and exits 2 (environment error), never a stack trace.
 */
export type LinkErrorReason =
  | 'no-such-interface'
  | 'permission'
  | 'interface-down'
  | 'open-failed'
  | 'send-failed';

export class LinkError extends UserError {
  override readonly name = 'LinkError';

  constructor(
    readonly reason: LinkErrorReason,
    message: string,
  ) {
    super(message);
  }
}
