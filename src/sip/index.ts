/**
 * SIP provisioning: owns the trunk and dispatch rule files of sip_config/, their validation, and
 * creating, updating and listing trunks and rules through LiveKit's server API.
 */
export { applySipConfig, loadSipConfig, writeIds, SIP_CONFIG_FILES, type DesiredSipConfig, type SetupResult, type SipIds } from './setup.js';
export { SipConfigError, fillPlaceholders, readConfigFile } from './files.js';
export { validateDispatchRule, validateInboundTrunk, validateOutboundTrunk, normalizeTransport, dispatchRuleType } from './validate.js';
export { planItem, changedFields, type PlanItem, type Action } from './plan.js';
export { upsertEnvText } from './env-file.js';
export { trunkRows, dispatchRows, formatTrunks, formatDispatchRules, type TrunkRow, type DispatchRow } from './list.js';
