// CDS Hooks DSTU2 HSPC Sandbox - https://sandbox.cds-hooks.org/launch.html
export const productionClientId = '48163c5e-88b5-4cb3-92d3-23b800caa927';

// CDS Hooks DSTU2 HSPC Sandbox - http://localhost:8080/launch.html
export const localhostClientId = '99407c8a-3069-41b1-af07-2612bc1f99de';

// Sandbox should have all scopes requested for HSPC FHIR Server
export const allScopes = 'patient/*.* user/*.* launch openid profile online_access';
