/**
 * How to read one direction's UPDATEs when the OPENs that settle it were not captured.
 * Two things in an UPDATE depend on them: the width of AS numbers in AS_PATH and
 * AGGREGATOR (2 or 4 octets, RFC 6793) and, per family, whether each prefix carries a
 * path identifier (ADD-PATH, RFC 7911). Both readings of each are tried; a reading is
 * plausible when it decodes without error, re-encodes to the very same bytes (no host
 * bits set, nothing left over) and repeats no prefix within one field (a path id read as
 * prefix lengths gives 0.0.0.0/0 again and again). When every plausible reading agrees on
 * one of the two, it is settled for the rest of the stream, with the reason; until then
 * 4-octet AS numbers and no path identifiers are assumed (what most speakers send). A
 * message is only asked what it can answer: the AS width while that is open, and ADD-PATH
 * for the families whose NLRI fields hold bytes; once all is settled, it is decoded once.
 */
import {
  DECODED_FAMILIES,
  decodeUpdate,
  encodeUpdate,
  type Family,
  familyName,
  hasAddPath,
  IPV4_UNICAST,
  sameFamily,
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
}

function repeatsAPrefix(prefixes: readonly string[], pathIds: readonly number[] | undefined): boolean {
  const keys = prefixes.map((prefix, index) => `${prefix} ${pathIds?.[index] ?? ''}`);
  return new Set(keys).size !== keys.length;
}

function plausible(attempt: Attempt, bytes: Buffer): boolean {
  const { message, context } = attempt;
  if (message === undefined || message.errors !== undefined) return false;
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

/**
 * The decoded families whose NLRI fields hold bytes, as one reading found them: only
 * those can tell the ADD-PATH readings apart (an empty field reads the same both ways; a
 * field with bytes yields prefixes or an error under any reading). Undefined when that
 * reading did not decode at all.
 */
function familiesWithPrefixes(attempt: Attempt): Family[] | undefined {
  const { message } = attempt;
  if (message === undefined) return undefined;
  const fields: Family[] = message.withdrawn.length > 0 || message.nlri.length > 0 ? [IPV4_UNICAST] : [];
  for (const attribute of message.attributes) {
    if ((attribute.type === 'mp-reach' || attribute.type === 'mp-unreach') && attribute.prefixes.length > 0) fields.push(attribute);
  }
  for (const error of message.errors ?? []) if (error.family) fields.push(error.family);
  return fields;
}

export class UpdateReading {
  private fourOctetAs: boolean | undefined;
  /** Per family name: whether its NLRI carry path identifiers, once settled. */
  private readonly addPath = new Map<string, boolean>();

  /** Decodes one UPDATE (header included); throws the assumed reading's DecodeError when none decodes. */
  read(bytes: Buffer): ReadUpdate {
    const assumed = this.attempt(bytes, this.fourOctetAs ?? true, []);
    const present = familiesWithPrefixes(assumed) ?? DECODED_FAMILIES;
    const open = DECODED_FAMILIES.filter((family) => !this.addPath.has(familyName(family)) && present.some((candidate) => sameFamily(candidate, family)));
    if (this.fourOctetAs !== undefined && open.length === 0) {
      if (assumed.message === undefined) throw assumed.error!;
      return { message: assumed.message, context: assumed.context, settled: [] };
    }
    const widths = this.fourOctetAs === undefined ? [true, false] : [this.fourOctetAs];
    // Every combination of the open questions, the assumed reading first.
    const readings = widths.flatMap((fourOctetAs) => subsets(open).map((withPathIds) => ({ fourOctetAs, withPathIds })));
    const attempts = [assumed, ...readings.slice(1).map((reading) => this.attempt(bytes, reading.fourOctetAs, reading.withPathIds))];
    const good = attempts.filter((attempt) => plausible(attempt, bytes));
    const chosen = good[0] ?? attempts.find((attempt) => attempt.message !== undefined);
    if (chosen?.message === undefined) throw assumed.error!;
    return { message: chosen.message, context: chosen.context, settled: good.length > 0 ? this.settle(good, open) : [] };
  }

  /** A reading: this AS width, path ids for the families settled so and for `withPathIds`. */
  private attempt(bytes: Buffer, fourOctetAs: boolean, withPathIds: readonly Family[]): Attempt {
    const settled = DECODED_FAMILIES.filter((family) => this.addPath.get(familyName(family)) === true);
    // Observing, not policing: any length up to the extended maximum (RFC 8654) is read.
    const context: SessionCodecContext = { fourOctetAs, extendedMessage: true, addPath: [...settled, ...withPathIds] };
    try {
      return { context, message: decodeUpdate(bytes, context) };
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      return { context, error };
    }
  }

  /** What every plausible reading agrees on, among the open questions. */
  private settle(good: Attempt[], open: readonly Family[]): SettledReading[] {
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
    for (const family of open) {
      const addPath = agreed((context) => hasAddPath(context, family));
      if (addPath === undefined) continue;
      this.addPath.set(familyName(family), addPath);
      settled.push({ what: family, chosen: addPath, reason: `the ${familyName(family)} prefixes read only ${addPath ? 'with' : 'without'} path identifiers` });
    }
    return settled;
  }
}

/** Every subset of `items`, the empty one first. */
function subsets<T>(items: readonly T[]): T[][] {
  return items.reduce<T[][]>((sets, item) => [...sets, ...sets.map((set) => [...set, item])], [[]]);
}
