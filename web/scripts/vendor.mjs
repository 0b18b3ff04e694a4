// Copy the browser builds of the pinned d3 modules (package-lock.json) into web/vendor/, where gdlab
// serves them as /static/vendor/...: the page then works from a plain checkout, with no npm step and
// no request to another host. Run `npm run vendor` after changing a version; the browser tests check
// that the committed copies are the pinned ones.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
export const VENDORED = [
    ['d3-array', 'dist/d3-array.min.js', 'd3-array.min.js'],
    ['d3-contour', 'dist/d3-contour.min.js', 'd3-contour.min.js'],
];

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    mkdirSync(join(web, 'vendor'), { recursive: true });
    const notice = [];
    for (const [pkg, from, to] of VENDORED) {
        const dir = join(web, 'node_modules', pkg);
        const { version, license } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
        copyFileSync(join(dir, from), join(web, 'vendor', to));
        notice.push(`${to}: ${pkg} ${version} (${license}), from npm\n\n${readFileSync(join(dir, 'LICENSE'), 'utf8').trim()}\n`);
        console.log(`vendor/${to} <- ${pkg}@${version}`);
    }
    const head = 'Third-party files served by gdlab, copied by `npm run vendor` from the versions pinned in package-lock.json.\n\n';
    writeFileSync(join(web, 'vendor', 'LICENSES.txt'), head + notice.join('\n'));
}
