/**
 * A third-party program on the TypeScript types that openapi-typescript generates from ReexAPI's schema, with the
 * openapi-fetch client.
 *
 * It lists the signed or closed deals, following the pagination to the end, reads the largest one's detail,
 * revalidates it with its ETag (If-None-Match, answered 304 Not Modified) and reads a slug that does not exist (a
 * typed 404), printing a short summary. Generate the types and run it as docs/api.md ("Generated clients") shows:
 *
 *     bash clients/generate.sh openapi.json build/clients
 *     npx tsc -p build/clients/typescript/tsconfig.json
 *     npx tsx clients/typescript/example.ts http://127.0.0.1:8000
 *
 * It exits non-zero (with the reason on stderr) when the API answers anything it does not expect.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "reexapi-schema";

type DealStatus = components["schemas"]["DealDetail"]["status"];

const PAGE_SIZE = 3;
const STATUSES: DealStatus[] = ["signed", "closed"];
const MISSING_SLUG = "no-such-deal";

class Unexpected extends Error {}

/** The page number of a `next` link (`null` on the last page). */
function pageOf(link: string | null): number | null {
  if (link === null) {
    return null;
  }
  const page = new URL(link).searchParams.get("page");
  if (page === null) {
    throw new Unexpected(`next link without a page: ${link}`);
  }
  return Number(page);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** A decimal string of US dollars as a reader would write it; "not stated" when the sources give none. */
function usd(amount: string | null | undefined): string {
  if (amount === null || amount === undefined) {
    return "not stated";
  }
  return `USD ${(Number(amount) / 1e6).toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 })}M`;
}

async function main(baseUrl: string): Promise<void> {
  const client = createClient<paths>({ baseUrl });

  // 1. A filtered list, followed page by page through the `next` links.
  const slugs: string[] = [];
  let largest: { usd: number; slug: string } | null = null;
  let page: number | null = 1;
  let pages = 0;
  while (page !== null) {
    const { data, error, response } = await client.GET("/api/v1/deals/", {
      params: { query: { status: STATUSES, page, page_size: PAGE_SIZE } },
    });
    if (data === undefined) {
      throw new Unexpected(`deals list page ${page} answered ${response.status}: ${JSON.stringify(error)}`);
    }
    pages += 1;
    console.log(`page ${page}: ${data.results.length} of ${data.count} deals`);
    for (const deal of data.results) {
      slugs.push(deal.slug);
      console.log(`  ${deal.slug} [${deal.status}] ${usd(deal.amount_usd)}`);
      if (deal.amount_usd !== null && deal.amount_usd !== undefined) {
        const value = Number(deal.amount_usd);
        if (largest === null || value > largest.usd) {
          largest = { usd: value, slug: deal.slug };
        }
      }
    }
    page = pageOf(data.next);
  }
  console.log(`listed ${slugs.length} signed or closed deals in ${pages} pages`);
  if (largest === null) {
    throw new Unexpected("no listed deal has a stated value");
  }

  // 2. One detail, and its ETag.
  const path = { slug: largest.slug };
  const detailed = await client.GET("/api/v1/deals/{slug}/", { params: { path } });
  const detail = detailed.data;
  if (detail === undefined) {
    throw new Unexpected(`deal ${largest.slug} answered ${detailed.response.status}`);
  }
  const parties = detail.parties.map((party) => `${party.name} (${party.role})`).join(", ");
  console.log(`detail: ${detail.title} | ${detail.deal_type} | ${usd(detail.amount_usd)} | parties: ${parties}`);
  const sources = new Set(detail.provenance.map((quote) => quote.source.slug));
  console.log(`evidence: ${plural(detail.evidence_count, "quote")} from ${plural(sources.size, "source")}`);
  const etag = detailed.response.headers.get("ETag");
  if (etag === null) {
    throw new Unexpected("the detail has no ETag");
  }

  // 3. The same request with If-None-Match: unchanged, so 304 and no body.
  const revalidated = await client.GET("/api/v1/deals/{slug}/", {
    params: { path },
    headers: { "If-None-Match": etag },
  });
  if (revalidated.response.status !== 304 || revalidated.data !== undefined) {
    throw new Unexpected(`If-None-Match answered ${revalidated.response.status}`);
  }
  console.log(`revalidated with If-None-Match: 304 ${revalidated.response.statusText}`);

  // 4. A slug that does not exist: a 404 whose body is the typed ErrorDetail.
  const missing = await client.GET("/api/v1/deals/{slug}/", { params: { path: { slug: MISSING_SLUG } } });
  if (missing.response.status !== 404 || missing.error === undefined || !("detail" in missing.error)) {
    throw new Unexpected(`${MISSING_SLUG} answered ${missing.response.status}`);
  }
  console.log(`${MISSING_SLUG}: 404 ${missing.error.detail}`);
}

main(process.argv[2] ?? "http://127.0.0.1:8000").catch((error: unknown) => {
  console.error(`unexpected: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
