import { DecodeError } from '../decode-error.js';
import { type Family } from './registry.js';
import { describeNotification } from './notification-codes.js';

/**
 * RFC 7606 2 error-handling approaches, ordered by severity so the worst of several
 * errors is a comparison (after gobgp's ErrorHandling and holo-bgp's UpdateError).
 */
export enum ErrorAction {
  AttributeDiscard = 1,
  TreatAsWithdraw = 2,
  AfiSafiDisable = 3,
  SessionReset = 4,
}

export const ERROR_ACTION_NAMES: Record<ErrorAction, string> = {
  [ErrorAction.AttributeDiscard]: 'attribute-discard',
  [ErrorAction.TreatAsWithdraw]: 'treat-as-withdraw',
  [ErrorAction.AfiSafiDisable]: 'afi-safi-disable',
  [ErrorAction.SessionReset]: 'session-reset',
};

/**
 * The one error BGP decoding and validation throw (or, for UPDATE errors RFC 7606 lets a
 * session survive, record): the NOTIFICATION it maps to, and what the session must do.
 * A DecodeError, so callers catching DecodeError for every codec catch this too.
 */
export class BgpError extends DecodeError {
  constructor(
    readonly code: number,
    readonly subcode: number,
    reason: string,
    readonly options: {
      /** NOTIFICATION Data (RFC 4271 6.x say what goes there per error). */
      data?: Buffer;
      action?: ErrorAction;
      /** The family to disable, for ErrorAction.AfiSafiDisable. */
      family?: Family;
      offset?: number;
    } = {},
  ) {
    super('bgp', `${describeNotification(code, subcode)}: ${reason}`, options.offset ?? 0);
    this.reason = reason;
  }

  readonly reason: string;

  get action(): ErrorAction {
    return this.options.action ?? ErrorAction.SessionReset;
  }

  get data(): Buffer {
    return this.options.data ?? Buffer.alloc(0);
  }

  get family(): Family | undefined {
    return this.options.family;
  }

  /** The NOTIFICATION to send for this error (RFC 4271 6). */
  toNotification(): { type: 'notification'; code: number; subcode: number; data: Buffer } {
    return { type: 'notification', code: this.code, subcode: this.subcode, data: this.data };
  }
}

/**
 * Runs `decode` and turns a plain DecodeError from the shared Reader (short input, a
 * length past the end) into the BgpError `code`/`subcode` that the caller's context
 * means; BgpErrors pass through unchanged.
 */
export function asBgpError<T>(code: number, subcode: number, decode: () => T, options: BgpError['options'] = {}): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof BgpError || !(error instanceof DecodeError)) throw error;
    throw new BgpError(code, subcode, error.detail, { offset: error.offset, ...options });
  }
}
