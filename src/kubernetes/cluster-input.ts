/**
 * What `vipkit run --kubernetes` takes from a cluster snapshot, in the form run's flags and
 * files have: this node's labels, the other speakers as members (the Nodes, their names
 * and InternalIPs, only those `--speaker-selector` matches), the MetalLB resources and the
 * Services with their EndpointSlices. So the cluster goes through the same parser, checks
 * and placement as flags and files do.
 */
import type { SourceFile } from '../pools/source.js';
import { EXCLUDE_LABEL } from '../speaker/election.js';
import type { ClusterSnapshot } from './cluster-snapshot.js';
import type { NodeView } from './nodes.js';

export interface KubernetesInput {
  /** `--node-labels` text: this node's labels; absent when it has none. */
  nodeLabels?: string;
  /** `--member` texts: every other speaker node with an InternalIP. */
  members: string[];
  configFiles: SourceFile[];
  serviceFiles: SourceFile[];
}

/**
 * A node whose network is unavailable (its NetworkUnavailable condition) must not carry
 * load-balancer traffic: it is given the exclusion label, which placement already honours.
 */
function effectiveLabels(node: NodeView): Record<string, string> {
  return node.networkUnavailable ? { ...node.labels, [EXCLUDE_LABEL]: '' } : node.labels;
}

function labelsText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** The snapshot as run's inputs; `speakers` says which Nodes run a speaker (`--speaker-selector`; absent: all). */
export function kubernetesInput(snapshot: ClusterSnapshot, nodeName: string, speakers?: Record<string, string>): KubernetesInput | { problem: string } {
  const self = snapshot.nodes.find((node) => node.name === nodeName);
  if (self === undefined) return { problem: `the cluster has no Node named ${nodeName}: give --node-name the name of this node as Kubernetes knows it (the DaemonSet passes spec.nodeName).` };
  const speaking = (node: NodeView) => speakers === undefined || Object.entries(speakers).every(([key, value]) => node.labels[key] === value);
  const members = snapshot.nodes
    .filter((node) => node.name !== nodeName && speaking(node) && node.internalIps.length > 0)
    .map((node) => [`${node.name}=${node.internalIps[0]}`, ...Object.entries(effectiveLabels(node)).map(([key, value]) => `label=${key}=${value}`)].join(','));
  const labels = labelsText(effectiveLabels(self));
  return {
    ...(labels !== '' ? { nodeLabels: labels } : {}),
    members,
    configFiles: snapshot.metallb === undefined ? [] : [snapshot.metallb],
    serviceFiles: [snapshot.services],
  };
}
