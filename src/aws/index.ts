// AWS IoT registration: the library API (the SDK itself loads on first use).
export { createIotClient, resolveRegion, DEFAULT_MAX_ATTEMPTS, type AwsClientOptions } from './client.js';
export { registerDevice, planRegisterDevice, type RegisterDeviceOptions, type RegisterDeviceResult, type RegistrationMode } from './register-device.js';
export { registerCa, planRegisterCa, validateJitp, type RegisterCaOptions, type RegisterCaResult, type CreateVerificationCertificate, type JitpSettings } from './register-ca.js';
export { deregisterDevice, planDeregister, type DeregisterOptions, type DeregisterResult } from './deregister.js';
export { jitpTemplate, type JitpTemplateOptions } from './jitp-template.js';
export { defaultPolicyDocument, DEFAULT_POLICY_NAME, THING_NAME_VARIABLE, type PolicyDocument } from './policy.js';
export { jsonFileAwsRecords, awsRecordsPath, type AwsRecords, type BoardAwsRecord, type CaAwsRecord } from './records.js';
export { sqliteAwsRecords, openAwsRecords, importJsonRecords, awsEndpointPath, type OpenedAwsRecords } from './records-store.js';
export { mapAwsError } from './errors.js';
export { readCertificate, parseCertificate, type LoadedCertificate } from './pem.js';
export { formatPlan, cliCommand, type PlannedCall } from './dry-run.js';
export { registerBoard, resolveBoardRegistration, type BoardRegistrationInput } from './board.js';
