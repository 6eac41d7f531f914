/**
 * What `vipkit run` is told, read into the model the speaker works from: this node and its
 * labels, the other members, the pools (flags and MetalLB files, through the pools
 * parser), and the services with the addresses the allocator gives them. Every mistake is
 * a located problem, reported before anything is sent.
 */
import { planAllocations } from '../pools/allocator.js';
import { readLabelsFlag, readMemberFlag, readServiceFlag } from '../pools/flags.js';
import type { Member, Problem } from '../pools/model.js';
import { readServices, type ServiceClaim } from '../pools/services.js';
import { loadPoolsSource, type SourceFile } from '../pools/source.js';
import type { Layer2Service } from './desired-state.js';

export interface ClusterInput {
  nodeName: string;
  /** `--node-labels k=v,...` */
  nodeLabels?: string;
  /** `--member name=address[,label=k=v]...` */
  members: readonly string[];
  /** `--pool` flags and MetalLB files (`--config`). */
  pools: readonly string[];
  configFiles: readonly SourceFile[];
  /** `--service ns/name[=ip][,pool=name]` flags and Service files (`--services`). */
  services: readonly string[];
  serviceFiles: readonly SourceFile[];
}

export interface ClusterConfig {
  self: { name: string; labels: Record<string, string> };
  /** The other members; a `--member` naming this node is this node. */
  members: Member[];
  services: Layer2Service[];
}

export function readClusterConfig(input: ClusterInput): { config: ClusterConfig; problems: Problem[] } {
  const problems: Problem[] = [];
  const labels = input.nodeLabels === undefined ? {} : readLabelsFlag(input.nodeLabels, '--node-labels', problems);
  const source = loadPoolsSource([...input.configFiles], { pools: [...input.pools], peers: [], defaults: {} });
  problems.push(...source.problems);
  const members = readMembers(input, problems);
  const claims: ServiceClaim[] = [
    ...input.services.flatMap((text, index) => readServiceFlag(text, `--service #${index + 1}`, problems) ?? []),
    ...input.serviceFiles.flatMap((file) => readServices(file.text, file.path, problems)),
  ];
  if (source.config.pools.length === 0) problems.push({ severity: 'error', at: { source: '--pool', column: 1 }, message: 'run needs address pools: --pool name=range or a MetalLB file with --config.' });
  const services: Layer2Service[] = [];
  for (const allocation of planAllocations(source.config.pools, claims)) {
    const at = claims.find((claim) => claim.key === allocation.service)!.at;
    if (allocation.error !== undefined) {
      problems.push({ severity: 'error', at, message: `service ${allocation.service} gets no address: ${allocation.error}` });
      continue;
    }
    const pool = source.config.pools.find((candidate) => candidate.name === allocation.pool)!;
    // BGP mode is the speaker's next step (its own issue): refused rather than silently not announced.
    if (!pool.protocols.includes('layer2')) {
      problems.push({ severity: 'error', at, message: `service ${allocation.service} is in pool ${pool.name}, advertised by ${pool.protocols.join(' and ') || 'no protocol'}; vipkit run announces layer2 pools so far.` });
      continue;
    }
    services.push({ key: allocation.service, ips: allocation.ips, pool: pool.name });
  }
  return { config: { self: { name: input.nodeName, labels }, members, services }, problems };
}

function readMembers(input: ClusterInput, problems: Problem[]): Member[] {
  const members: Member[] = [];
  input.members.forEach((text, index) => {
    const member = readMemberFlag(text, `--member #${index + 1}`, problems);
    if (member === undefined || member.name === input.nodeName) return;
    const twin = members.find((other) => other.name === member.name || other.address === member.address);
    if (twin) {
      problems.push({ severity: 'error', at: member.at, message: `member ${member.name} (${member.address}) repeats the name or address of member ${twin.name} (${twin.address}); every member once.` });
      return;
    }
    members.push(member);
  });
  return members;
}
