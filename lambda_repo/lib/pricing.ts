/**
 * On-demand Linux prices (USD per hour, us-east-1) shipped with the handler, for
 * budgets; refreshed from AWS's Pricing API where the target serves it (the
 * emulator does not: the table is used, and the certificate says so).
 */
export const PRICE_TABLE: Readonly<Record<string, number>> = {
  't2.micro': 0.0116,
  't2.small': 0.023,
  't2.medium': 0.0464,
  't2.large': 0.0928,
  't3.micro': 0.0104,
  't3.small': 0.0208,
  't3.medium': 0.0416,
  't3.large': 0.0832,
  't3.xlarge': 0.1664,
  'm5.large': 0.096,
  'm5.xlarge': 0.192,
  'm5.2xlarge': 0.384,
  'm5.4xlarge': 0.768,
  'm5.8xlarge': 1.536,
  'm5.16xlarge': 3.072,
  'm5.24xlarge': 4.608,
  'c5.large': 0.085,
  'c5.xlarge': 0.17,
  'c5.2xlarge': 0.34,
  'c5.4xlarge': 0.68,
  'c5.9xlarge': 1.53,
  'r5.large': 0.126,
  'r5.xlarge': 0.252,
  'r5.2xlarge': 0.504,
  'p2.xlarge': 0.9,
  'p2.8xlarge': 7.2,
  'p3.2xlarge': 3.06,
  'p3.8xlarge': 12.24,
  'g4dn.xlarge': 0.526,
  'g4dn.2xlarge': 0.752,
  'g4dn.4xlarge': 1.204,
  'g5.xlarge': 1.006,
  'g5.2xlarge': 1.212,
}

/** For a type missing from the table: priced as the dearest of its family's listed sizes, else the dearest listed. */
export function tablePrice(instanceType: string): {price: number; exact: boolean} {
  const exact = PRICE_TABLE[instanceType]
  if (exact !== undefined) return {price: exact, exact: true}
  const family = instanceType.split('.')[0]
  const sameFamily = Object.entries(PRICE_TABLE).filter(([t]) => t.split('.')[0] === family)
  const pool = sameFamily.length > 0 ? sameFamily : Object.entries(PRICE_TABLE)
  return {price: Math.max(...pool.map(([, p]) => p)), exact: false}
}

/** The Pricing API's location names, for the regions jobs usually run in. */
const LOCATIONS: Record<string, string> = {
  'us-east-1': 'US East (N. Virginia)',
  'us-east-2': 'US East (Ohio)',
  'us-west-1': 'US West (N. California)',
  'us-west-2': 'US West (Oregon)',
  'eu-west-1': 'EU (Ireland)',
  'eu-central-1': 'EU (Frankfurt)',
}

/**
 * Asks AWS's Pricing API (JSON 1.1, `AWSPriceListService.GetProducts`) through a
 * caller-supplied signed POST; undefined when it cannot answer.
 */
export function pricingFilters(instanceType: string, region: string): {Type: string; Field: string; Value: string}[] | undefined {
  const location = LOCATIONS[region]
  if (!location) return undefined
  return [
    {Type: 'TERM_MATCH', Field: 'instanceType', Value: instanceType},
    {Type: 'TERM_MATCH', Field: 'location', Value: location},
    {Type: 'TERM_MATCH', Field: 'operatingSystem', Value: 'Linux'},
    {Type: 'TERM_MATCH', Field: 'tenancy', Value: 'Shared'},
    {Type: 'TERM_MATCH', Field: 'preInstalledSw', Value: 'NA'},
    {Type: 'TERM_MATCH', Field: 'capacitystatus', Value: 'Used'},
  ]
}

/** The on-demand USD hourly price in one PriceList entry (a JSON string), if any. */
export function onDemandPrice(priceListEntry: string): number | undefined {
  try {
    const product = JSON.parse(priceListEntry) as {
      terms?: {OnDemand?: Record<string, {priceDimensions?: Record<string, {pricePerUnit?: {USD?: string}}>}>}
    }
    for (const term of Object.values(product.terms?.OnDemand ?? {})) {
      for (const dim of Object.values(term.priceDimensions ?? {})) {
        const usd = Number(dim.pricePerUnit?.USD)
        if (Number.isFinite(usd) && usd > 0) return usd
      }
    }
  } catch {
    return undefined
  }
  return undefined
}
