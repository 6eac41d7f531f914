import { familyOf, type Family } from './address-range.js';
import type { Location, Problem } from './model.js';
import { entry, expectMap, FieldReader, parseYaml, type YamlMap } from './yaml-source.js';

/**
 * Kubernetes Services, as the MetalLB controller sees them: only type LoadBalancer, with
 * the fields and annotations that steer allocation. Both annotation prefixes are read:
 * metallb.universe.tf/ (before v0.14) and metallb.io/.
 */
export interface ServiceClaim {
  /** "namespace/name" */
  key: string;
  namespace: string;
  labels: Record<string, string>;
  families: Family[];
  /** PreferDualStack: a second family only where the pool has one. */
  preferDualStack: boolean;
  requestedIps: string[];
  /** The addresses already in status.loadBalancer.ingress. */
  currentIps: string[];
  pool?: string;
  sharingKey?: string;
  /** With externalTrafficPolicy Local, services sharing an IP must select the same pods (MetalLB's backend key). */
  backendKey: string;
  /** "TCP/80" */
  ports: string[];
  loadBalancerClass?: string;
  /** externalTrafficPolicy: Local — announced only from the nodes that host a ready endpoint. */
  localTraffic?: boolean;
  /** The nodes with a ready endpoint, when known (EndpointSlices read beside the Service, or --service endpoint=). */
  endpointNodes?: string[];
  /** Why MetalLB refuses the service before looking at any pool. */
  refusal?: string;
  at: Location;
  /** Where the pool annotation was written, for problems about it. */
  poolAt?: Location;
}

const ANNOTATION_PREFIXES = ['metallb.io/', 'metallb.universe.tf/'];

function annotation(annotations: Record<string, string>, name: string): string | undefined {
  for (const prefix of ANNOTATION_PREFIXES) {
    if (annotations[prefix + name] !== undefined) return annotations[prefix + name];
  }
  return undefined;
}

/**
 * Services from YAML or JSON: one object, a List, or several documents; EndpointSlices
 * among them say where each service's ready endpoints are (`kubectl get svc,endpointslices
 * -o yaml` writes both).
 */
export function readServices(text: string, source: string, problems: Problem[]): ServiceClaim[] {
  const parsed = parseYaml(text, source);
  problems.push(...parsed.problems);
  const read: ReadObjects = { claims: [], endpoints: new Map() };
  for (const document of parsed.documents) {
    const map = expectMap(document, 'a services document', problems);
    if (map) readObjects(map, read, problems);
  }
  return read.claims.map((claim) => {
    const nodes = read.endpoints.get(claim.key);
    return nodes === undefined ? claim : { ...claim, endpointNodes: [...nodes].sort() };
  });
}

interface ReadObjects {
  claims: ServiceClaim[];
  /** Service key -> the nodes hosting one of its ready endpoints. */
  endpoints: Map<string, Set<string>>;
}

function readObjects(map: YamlMap, read: ReadObjects, problems: Problem[]): void {
  const kind = entry(map, 'kind');
  const kindText = kind?.kind === 'scalar' ? String(kind.value) : undefined;
  const items = entry(map, 'items');
  if (items?.kind === 'seq') {
    for (const item of items.items) {
      const object = expectMap(item, 'an item of the list', problems);
      if (object) readObjects(object, read, problems);
    }
    return;
  }
  if (kindText === 'EndpointSlice') readEndpointSlice(map, read.endpoints);
  if (kindText !== 'Service') return;
  const claim = readService(map, problems);
  if (claim) read.claims.push(claim);
}

/**
 * An EndpointSlice's ready endpoints, by node: discovery.k8s.io/v1 names it in nodeName,
 * v1beta1 in topology["kubernetes.io/hostname"]. A missing ready condition counts as
 * ready, as Kubernetes says consumers should read it.
 */
function readEndpointSlice(map: YamlMap, endpoints: Map<string, Set<string>>): void {
  const object = new FieldReader(map, 'an EndpointSlice', [], []);
  const metadata = object.mapping('metadata');
  const meta = metadata ? new FieldReader(metadata, 'EndpointSlice metadata', [], []) : undefined;
  const service = meta?.stringMap('labels')['kubernetes.io/service-name'];
  if (service === undefined) return;
  const key = `${meta!.string('namespace') ?? 'default'}/${service}`;
  const nodes = endpoints.get(key) ?? endpoints.set(key, new Set()).get(key)!;
  for (const node of object.list('endpoints')) {
    if (node.kind !== 'map') continue;
    const endpoint = new FieldReader(node, 'an endpoint', [], []);
    const conditions = endpoint.mapping('conditions');
    const ready = conditions ? new FieldReader(conditions, 'conditions', [], []).boolean('ready') : undefined;
    const nodeName = endpoint.string('nodeName') ?? endpoint.stringMap('topology')['kubernetes.io/hostname'];
    if (ready !== false && nodeName !== undefined) nodes.add(nodeName);
  }
}

function readService(map: YamlMap, problems: Problem[]): ServiceClaim | undefined {
  const object = new FieldReader(map, 'a Service', problems, ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  const metadata = object.mapping('metadata');
  const meta = metadata ? new FieldReader(metadata, 'Service metadata', [], []) : undefined;
  const name = meta?.string('name');
  if (name === undefined) {
    problems.push({ severity: 'error', at: map.at, message: 'a Service has no metadata.name; give it a name.' });
    return undefined;
  }
  const namespace = meta!.string('namespace') ?? 'default';
  const annotations = meta!.stringMap('annotations');
  const spec = object.mapping('spec');
  const specFields = spec ? new FieldReader(spec, `Service ${namespace}/${name}`, [], []) : undefined;
  if (specFields?.string('type') !== 'LoadBalancer') return undefined;
  // ipfamily.go ForService: the families of the cluster IPs; ipFamilies says the same, in the same order.
  const clusterIps = specFields.stringList('clusterIPs').flatMap(({ value }) => familyOf(value) ?? []);
  const families = clusterIps.length > 0 ? clusterIps : specFields.stringList('ipFamilies').map(({ value }) => (value === 'IPv6' ? 6 : 4) as Family);
  const ipsAnnotation = annotation(annotations, 'loadBalancerIPs') || undefined;
  const loadBalancerIp = specFields.string('loadBalancerIP') || undefined;
  const requested = ipsAnnotation ?? loadBalancerIp;
  const requestedIps = requested === undefined ? [] : requested.split(',').map((ip) => ip.trim());
  const selector = specFields.stringMap('selector');
  const isLocal = specFields.string('externalTrafficPolicy') === 'Local';
  const ports = specFields.list('ports').flatMap((node) => {
    if (node.kind !== 'map') return [];
    const port = new FieldReader(node, 'a port', [], []);
    return [`${port.string('protocol') ?? 'TCP'}/${port.string('port') ?? ''}`];
  });
  const annotationsNode = entry(metadata!, 'annotations');
  const poolAnnotation = annotationsNode?.kind === 'map' ? annotationsNode.entries.find((item) => ANNOTATION_PREFIXES.some((prefix) => item.key === `${prefix}address-pool`)) : undefined;
  const policy = specFields.string('ipFamilyPolicy');
  const serviceFamilies = familiesFor(families, requestedIps, policy);
  // controller/service.go convergeBalancer: RequireDualStack with cluster IPs of one family gets nothing and loses what it held.
  const dualStackUnmet = policy === 'RequireDualStack' && serviceFamilies.length < 2;
  return {
    key: `${namespace}/${name}`,
    namespace,
    labels: meta!.stringMap('labels'),
    families: serviceFamilies,
    preferDualStack: policy === 'PreferDualStack',
    requestedIps,
    currentIps: dualStackUnmet ? [] : currentIngress(object),
    pool: annotation(annotations, 'address-pool'),
    sharingKey: annotation(annotations, 'allow-shared-ip'),
    backendKey: isLocal ? Object.entries(selector).sort().map(([key, value]) => `${key}=${value}`).join(',') : '',
    ports,
    loadBalancerClass: specFields.string('loadBalancerClass'),
    ...(isLocal ? { localTraffic: true } : {}),
    // controller/service.go getDesiredLbIPs
    refusal: dualStackUnmet
      ? 'it requires dual stack (RequireDualStack) but its cluster IPs are of one family, so MetalLB gives it no address.'
      : ipsAnnotation !== undefined && loadBalancerIp !== undefined
        ? 'it sets both spec.loadBalancerIP and the loadBalancerIPs annotation, which MetalLB refuses; keep one of them.'
        : undefined,
    at: map.at,
    poolAt: poolAnnotation?.value.at,
  };
}

/**
 * Without cluster IPs or ipFamilies, the family is that of the requested IPs, else IPv4 (a
 * cluster's default), or both for RequireDualStack, which Kubernetes gives two cluster IPs.
 */
function familiesFor(listed: Family[], requestedIps: string[], policy: string | undefined): Family[] {
  if (listed.length > 0) return policy === 'SingleStack' ? listed.slice(0, 1) : listed;
  if (policy === 'RequireDualStack') return [4, 6];
  const requested = [...new Set(requestedIps.map((ip) => familyOf(ip)).filter((family): family is Family => family !== undefined))];
  return requested.length > 0 ? requested : [4];
}

function currentIngress(object: FieldReader): string[] {
  const status = object.mapping('status');
  const loadBalancer = status ? new FieldReader(status, 'status', [], []).mapping('loadBalancer') : undefined;
  const ingress = loadBalancer ? new FieldReader(loadBalancer, 'status.loadBalancer', [], []).list('ingress') : [];
  return ingress.flatMap((item) => {
    if (item.kind !== 'map') return [];
    const ip = new FieldReader(item, 'an ingress', [], []).string('ip');
    return ip === undefined ? [] : [ip];
  });
}
