/**
 * Every key type, under the names that `KeyType.code` refers to; generated
 * entry points import this namespace to rebuild their keys.
 */
export { bool, choice, int, port, string } from "./KeyType.ts"
export { levelSpecType as levelSpec } from "./LogLevels.ts"
export { ipv4, ipv4Cidr, optional } from "./NetKeyTypes.ts"
