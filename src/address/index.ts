/**
 * Address module: pure parsing, validation, normalisation, flags and typo suggestions for one email address.
 */
export { parseAddress } from './parse.js';
export type { AddressFlags, AddressResult, InvalidAddress, ParsedAddress } from './types.js';
export {
  ADDRESS_LIMITS,
  SYNTAX_DETAILS,
  checkAsciiDomain,
  checkLocalPart,
  findControlChar,
  splitAddress,
  type SyntaxDetail,
  type SyntaxFailure,
} from './syntax.js';
export { dedupKey, normalizeDomain, unwrapAddress, type NormalizedDomain } from './normalize.js';
export { addressFlags, isDisposableDomain, isFreeDomain, isRoleLocalPart, preloadAddressLists } from './flags.js';
export {
  FREE_LIST_TYPOS,
  POPULAR_MAIL_DOMAINS,
  POPULAR_MAIL_SLDS,
  createDomainSuggester,
  repairDomain,
  suggestDomain,
  type DomainSuggester,
  type DomainSuggesterOptions,
} from './typos.js';
