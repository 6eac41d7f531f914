/**
 * What the informers hold, as the inputs `vipkit run` already reads from files: the
 * LoadBalancer Services with their EndpointSlices as one List (the pools parser's
 * readServices), and the MetalLB resources with the Nodes and Namespaces their selectors
 * match as YAML documents (loadPoolsSource). So Kubernetes goes through the one model
 * the pools parser builds, with the same checks and the same problems. The text is
 * sorted, so an unchanged cluster gives the same text.
 */
import type { SourceFile } from '../pools/source.js';
import type { EndpointSlice, KubernetesObject, Node, Service } from './api-objects.js';
import { readNode, type NodeView } from './nodes.js';
import { objectKey } from './resources.js';
import { isLoadBalancer } from './services.js';
import { SERVICE_NAME_LABEL } from './endpoint-slices.js';

export interface ClusterObjects {
  services: Service[];
  endpointSlices: EndpointSlice[];
  nodes: Node[];
  namespaces: KubernetesObject[];
  /** IPAddressPools, L2Advertisements, BGPAdvertisements, BGPPeers, Communities, BFDProfiles. */
  metallb: KubernetesObject[];
}

export interface ClusterSnapshot {
  /** For ClusterInput.serviceFiles: one JSON document per object, so that a re-read parses only the objects that changed. */
  services: SourceFile;
  /** The LoadBalancer Services themselves (their status, uid...), for what writes to them. */
  serviceObjects: Service[];
  /** For ClusterInput.configFiles; undefined when the cluster holds no MetalLB resource. */
  metallb?: SourceFile;
  /** Every Node, read (mayAnnounce says which may announce). */
  nodes: NodeView[];
}

export const SERVICES_SOURCE = 'kubernetes:services';
export const METALLB_SOURCE = 'kubernetes:metallb';
/** Objects go in as a stream of JSON documents (JSON is YAML), one per object. */
const DOCUMENT_SEPARATOR = '\n---\n';

function sorted<T extends KubernetesObject>(objects: Iterable<T>): T[] {
  return [...objects]
    .map((object) => ({ object, key: objectKey(object) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ object }) => object);
}

/**
 * An informer's object as its document. An informer replaces an object that changes and
 * never edits one, so the text of each is written once, not at every snapshot (thousands
 * of Services, most of them unchanged each time).
 */
const documents = new WeakMap<KubernetesObject, string>();

function documentOf(object: KubernetesObject): string {
  let text = documents.get(object);
  if (text === undefined) {
    text = JSON.stringify(withoutManagedFields(object));
    documents.set(object, text);
  }
  return text;
}

/** managedFields is the largest part of most objects, and nothing vipkit reads. */
function withoutManagedFields<T extends KubernetesObject>(object: T): T {
  if (object.metadata === undefined || !('managedFields' in object.metadata)) return object;
  const { managedFields: _dropped, ...metadata } = object.metadata as Record<string, unknown>;
  return { ...object, metadata };
}

/** Only what selectors match: name and labels. */
function labelsOnly(object: KubernetesObject, apiVersion: string, kind: string): KubernetesObject {
  return { apiVersion, kind, metadata: { name: object.metadata?.name ?? '', labels: object.metadata?.labels ?? {} } };
}

export function clusterSnapshot(objects: ClusterObjects): ClusterSnapshot {
  const services = sorted(objects.services.filter(isLoadBalancer));
  const wanted = new Set(services.map(objectKey));
  const slices = sorted(objects.endpointSlices).filter((slice) => wanted.has(`${slice.metadata?.namespace ?? ''}/${slice.metadata?.labels?.[SERVICE_NAME_LABEL] ?? ''}`));
  const serviceText = [...services, ...slices].map(documentOf).join(DOCUMENT_SEPARATOR);
  const nodes = sorted(objects.nodes).flatMap((node) => readNode(node) ?? []);
  if (objects.metallb.length === 0) return { services: { path: SERVICES_SOURCE, text: serviceText }, serviceObjects: services, nodes };
  const selected = [
    ...sorted(objects.metallb).map(documentOf),
    ...sorted(objects.nodes).map((node) => JSON.stringify(labelsOnly(node, 'v1', 'Node'))),
    ...sorted(objects.namespaces).map((namespace) => JSON.stringify(labelsOnly(namespace, 'v1', 'Namespace'))),
  ];
  return {
    services: { path: SERVICES_SOURCE, text: serviceText },
    serviceObjects: services,
    metallb: { path: METALLB_SOURCE, text: selected.join(DOCUMENT_SEPARATOR) },
    nodes,
  };
}
