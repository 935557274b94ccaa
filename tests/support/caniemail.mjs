// Lints HTML files against caniemail's data (doiuse-email) for the given clients.
// Usage: node caniemail.mjs CLIENTS_JSON FILE.html...; prints {file: [errors]} as JSON.
import { readFileSync } from 'node:fs';
import { doIUseEmail } from 'doiuse-email';

const clients = JSON.parse(process.argv[2]);
const out = {};
for (const file of process.argv.slice(3)) {
  const result = doIUseEmail(readFileSync(file, 'utf8'), { emailClients: clients });
  out[file] = result.errors ?? [];
}
process.stdout.write(JSON.stringify(out));
