export * from './procver';
export * from './versions';
export * from './deployments';
export * from './usage';
export * from './audit';
export * from './users';
export * from './bindings';
