// The sources suite runs twice in `npm test`: against etcd 3.6 (the version Kubernetes pins) and,
// in the project that loads this file, against Debian's etcd 3.4.
process.env.EHC_ETCD_VERSION = '3.4';
