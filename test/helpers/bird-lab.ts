/**
 * The lab of the bgp-peer tests against BIRD: a `router` (192.0.2.1) and one speaker
 * node, `node1` (192.0.2.11), on one segment.
 */
import { after, before } from 'node:test';
import { Bird } from '../../src/lab/bgp-daemons.js';
import { Lab } from '../../src/lab/lab.js';
import { labUnavailableReason } from './root.js';

export const ROUTER_AND_NODE = {
  hosts: [
    { name: 'router', addresses: ['192.0.2.1/24'] },
    { name: 'node1', addresses: ['192.0.2.11/24'] },
  ],
};

/** That lab with BIRD running `config` in the router, for every test of the enclosing describe block; removed after them. */
export function sharedBirdLab(config: string): () => { lab: Lab; bird: Bird } {
  let built: { lab: Lab; bird: Bird } | undefined;
  let lab: Lab | undefined;
  let bird: Bird | undefined;
  before(async () => {
    if (labUnavailableReason() !== undefined) return;
    lab = await Lab.create(ROUTER_AND_NODE);
    bird = await Bird.start(lab, 'router', config);
    built = { lab, bird };
  });
  after(async () => {
    await lab?.destroy();
  });
  return () => {
    if (!built) throw new Error('the BIRD lab was not built');
    return built;
  };
}
