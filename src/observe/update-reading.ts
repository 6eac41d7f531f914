/**
 * How to read one direction's UPDATEs when the OPENs that settle it were not captured.
 * Two things in an UPDATE depend on them: the width of AS numbers in AS_PATH and
 * AGGREGATOR (2 or 4 octets, RFC 6793) and, per family, whether each prefix carries a
 * path identifier (ADD-PATH, RFC 7911). Both readings of each are tried; a reading is
 * plausible when it decodes without error, re-encodes to the very same bytes (no host
 * bits set, nothing left over) and repeats no prefix within one field (a path id read as
 * prefix lengths gives 0.0.0.0/0 again and again). When every plausible reading agrees on
 * one of the two, it is settled for the rest of the stream, with the reason; until then
 * 4-octet AS numbers and no path identifiers are assumed (what most speakers send).
 */
import {
  DECODED_FAMILIES,
  decodeUpdate,
  encodeUpdate,
  type Family,
  familyName,
  hasAddPath,
  type SessionCodecContext,
  type UpdateMessage,
} from '../wire/bgp/index.js';
import { DecodeError } from '../wire/decode-error.js';

/** A reading settled from the bytes: what, the value chosen, and why. */
export interface SettledReading {
  /** 'four-octet-as', or the family whose path identifiers were settled. */
  what: 'four-octet-as' | Family;
  chosen: boolean;
  reason: string;
}

export interface ReadUpdate {
  message: UpdateMessage;
  context: SessionCodecContext;
  /** What this message settled (usually nothing). */
  settled: SettledReading[];
}

interface Attempt {
  context: SessionCodecContext;
  message?: UpdateMessage;
  error?: DecodeError;
  plausible: boolean;
}

function repeatsAPrefix(prefixes: readonly string[], pathIds: readonly number[] | undefined): boolean {
  const keys = prefixes.map((prefix, index) => `${prefix} ${pathIds?.[index] ?? ''}`);
  return new Set(keys).size !== keys.length;
}

function plausible(message: UpdateMessage, bytes: Buffer, context: SessionCodecContext): boolean {
  if (message.errors !== undefined) return false;
  const fields = [
    { prefixes: message.withdrawn, pathIds: message.withdrawnPathIds },
    { prefixes: message.nlri, pathIds: message.nlriPathIds },
    ...message.attributes.flatMap((attribute) => (attribute.type === 'mp-reach' || attribute.type === 'mp-unreach' ? [attribute] : [])),
  ];
  if (fields.some((field) => repeatsAPrefix(field.prefixes, field.pathIds))) return false;
  try {
    return encodeUpdate(message, context).equals(bytes);
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return false;
  }
}

export class UpdateReading {
  private fourOctetAs: boolean | undefined;
  /** Per family name: whether its NLRI carry path identifiers, once settled. */
  private readonly addPath = new Map<string, boolean>();

  /** Decodes one UPDATE (header included); throws the assumed reading's DecodeError when none decodes. */
  read(bytes: Buffer): ReadUpdate {
    const attempts = this.candidates().map((context) => this.attempt(bytes, context));
    const good = attempts.filter((attempt) => attempt.plausible);
    const chosen = good[0] ?? attempts.find((attempt) => attempt.message !== undefined);
    if (chosen?.message === undefined) throw attempts[0]!.error!;
    return { message: chosen.message, context: chosen.context, settled: good.length > 0 ? this.settle(good) : [] };
  }

  /** Every reading still open, the assumed one first. */
  private candidates(): SessionCodecContext[] {
    const widths = this.fourOctetAs === undefined ? [true, false] : [this.fourOctetAs];
    let addPathSets: Family[][] = [[]];
    for (const family of DECODED_FAMILIES) {
      const settled = this.addPath.get(familyName(family));
      const values = settled === undefined ? [false, true] : [settled];
      addPathSets = addPathSets.flatMap((set) => values.map((value) => (value ? [...set, family] : set)));
    }
    // Observing, not policing: any length up to the extended maximum (RFC 8654) is read.
    return widths.flatMap((fourOctetAs) => addPathSets.map((addPath) => ({ fourOctetAs, extendedMessage: true, addPath })));
  }

  private attempt(bytes: Buffer, context: SessionCodecContext): Attempt {
    try {
      const message = decodeUpdate(bytes, context);
      return { context, message, plausible: plausible(message, bytes, context) };
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      return { context, error, plausible: false };
    }
  }

  /** What every plausible reading agrees on, among what is still open. */
  private settle(good: Attempt[]): SettledReading[] {
    const settled: SettledReading[] = [];
    const agreed = (value: (context: SessionCodecContext) => boolean): boolean | undefined => {
      const values = new Set(good.map((attempt) => value(attempt.context)));
      return values.size === 1 ? [...values][0] : undefined;
    };
    if (this.fourOctetAs === undefined) {
      const fourOctetAs = agreed((context) => context.fourOctetAs);
      if (fourOctetAs !== undefined) {
        this.fourOctetAs = fourOctetAs;
        settled.push({ what: 'four-octet-as', chosen: fourOctetAs, reason: `AS_PATH and AGGREGATOR read only with ${fourOctetAs ? 4 : 2}-octet AS numbers` });
      }
    }
    for (const family of DECODED_FAMILIES) {
      if (this.addPath.has(familyName(family))) continue;
      const addPath = agreed((context) => hasAddPath(context, family));
      if (addPath === undefined) continue;
      this.addPath.set(familyName(family), addPath);
      settled.push({ what: family, chosen: addPath, reason: `the ${familyName(family)} prefixes read only ${addPath ? 'with' : 'without'} path identifiers` });
    }
    return settled;
  }
}
