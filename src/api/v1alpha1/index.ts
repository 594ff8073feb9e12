export * from './resource.js';
export * from './spec.js';
export * from './status.js';
export * from './units.js';
