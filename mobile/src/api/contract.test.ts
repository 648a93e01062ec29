/**
 * The app's contract types (types.ts) and the paths its client calls, checked against the server's
 * OpenAPI document: every field name, and whether it is required, must agree.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import ts from 'typescript';

const OPENAPI = resolve(__dirname, '../../../src/photosync/handlers/http/openapi.json');
const TYPES = resolve(__dirname, 'types.ts');
const CLIENT = resolve(__dirname, 'client.ts');

interface Schema {
  properties?: Record<string, unknown>;
  required?: string[];
}

const document = JSON.parse(readFileSync(OPENAPI, 'utf8')) as {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, Schema> };
};

/** Each interface of types.ts and the document's schema it mirrors. */
const SCHEMA_OF: Record<string, string> = {
  ErrorBody: 'Error',
  Me: 'Account',
  UploadRequest: 'UploadRequest',
  UploadGranted: 'UploadGrant',
  UploadDuplicate: 'DuplicateUpload',
  UploadStatus: 'UploadStatus',
  Photo: 'Photo',
  PhotoPage: 'PhotoPage',
  DownloadLink: 'DownloadLink',
  LookupRequest: 'LookupRequest',
  LookupResponse: 'LookupResult',
  CreateAlbumRequest: 'AlbumName',
  Album: 'Album',
  AlbumList: 'AlbumList',
  AddAlbumPhotosRequest: 'PhotoIds',
  AddAlbumPhotosResponse: 'Added',
};

function interfaces(): Map<string, Map<string, boolean>> {
  const source = ts.createSourceFile(TYPES, readFileSync(TYPES, 'utf8'), ts.ScriptTarget.Latest, true);
  const found = new Map<string, Map<string, boolean>>();
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node)) return;
    const fields = new Map<string, boolean>();
    for (const member of node.members) {
      if (ts.isPropertySignature(member) && member.name && ts.isIdentifier(member.name)) {
        fields.set(member.name.text, member.questionToken === undefined);
      }
    }
    found.set(node.name.text, fields);
  });
  return found;
}

describe('types.ts against openapi.json', () => {
  const declared = interfaces();

  it.each(Object.entries(SCHEMA_OF))('%s has the fields of %s, required alike', (name, schemaName) => {
    const schema = document.components.schemas[schemaName];
    expect(schema).toBeDefined();
    const fields = declared.get(name);
    expect(fields).toBeDefined();
    // Contract names only: no field the document does not have...
    expect([...fields!.keys()].filter((f) => !(f in (schema.properties ?? {})))).toEqual([]);
    // ...the required ones all present and required here too.
    const required = schema.required ?? [];
    expect(required.filter((f) => fields!.get(f) !== true)).toEqual([]);
    // The optional ones the app uses are optional here (a server may leave them out).
    expect([...fields!.entries()].filter(([f, isRequired]) => isRequired && !required.includes(f)).map(([f]) => f)).toEqual([]);
  });
});

describe('client.ts against openapi.json', () => {
  it('calls only paths and methods the document has', () => {
    const source = readFileSync(CLIENT, 'utf8');
    const calls = [...source.matchAll(/this\.request(?:<[^>]*>)?\('(\w+)', [`'](\/[^`'?]*)/g)].map(
      ([, method, path]) => `${method.toLowerCase()} ${path.replace(/\$\{[^}]*\}/g, '{}').replace(/\$\{suffix.*$/, '')}`,
    );
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, methods]) =>
        Object.keys(methods).map((method) => `${method} ${path.replace(/\{[^}]*\}/g, '{}')}`),
      ),
    );
    const api = calls.filter((call) => !call.includes(' /auth/'));
    expect(api.length).toBeGreaterThan(10);
    expect(api.filter((call) => !documented.has(call))).toEqual([]);
  });
});
