// Options that are valid but probably wrong: logged once at start-up with the fix, never refused (a list of
// regions goes stale; a proxy in front of Authsignal may use another path).

// The regions where Amazon Cognito user pools run (2026-12). A new region only costs a spurious warning.
const COGNITO_REGIONS = new Set([
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'us-gov-east-1', 'us-gov-west-1', 'ca-central-1', 'ca-west-1',
  'mx-central-1', 'sa-east-1', 'eu-central-1', 'eu-central-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-north-1',
  'eu-south-1', 'eu-south-2', 'il-central-1', 'me-central-1', 'me-south-1', 'af-south-1', 'ap-east-1', 'ap-east-2',
  'ap-south-1', 'ap-south-2', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-southeast-1', 'ap-southeast-2',
  'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-7', 'cn-north-1', 'cn-northwest-1'
])

export interface WarningInput {
  pools: Array<{ userPoolId: string, issuers: string[], jwksUri: string }>
  apiUrl: string
  hasClient: boolean
}

/** Plain http to anything but this machine: readable and forgeable on the way (a local stand-in is fine). */
function clearTextAway (url: string): boolean {
  const { protocol, hostname } = new URL(url)
  return protocol === 'http:' && !/^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(hostname)
}

export function optionWarnings ({ pools, apiUrl, hasClient }: WarningInput): string[] {
  const warnings: string[] = []
  pools.forEach((pool, i) => {
    const name = pools.length === 1 ? 'cognito' : `cognito[${i}]`
    if (clearTextAway(pool.jwksUri)) {
      warnings.push(`${name}.jwksUri ${pool.jwksUri} is plain http to another machine: anyone on the way can swap the keys ` +
        'and sign tokens the plugin would trust; use https')
    }
    const region = /^([a-z]{2}(?:-[a-z]+)+-\d+)_/.exec(pool.userPoolId)?.[1]
    if (region !== undefined && !COGNITO_REGIONS.has(region) && pool.issuers.some(issuer => issuer.includes('.amazonaws.com/'))) {
      warnings.push(`${name}.userPoolId ${pool.userPoolId} names the region ${region}, where Cognito has no user pools: ` +
        'check the pool id (the "User pool ID" on the pool\'s overview page), or every token will be refused')
    }
  })
  if (!hasClient && clearTextAway(apiUrl)) {
    warnings.push(`authsignal.apiUrl ${apiUrl} is plain http to another machine: the API secret goes with every call, ` +
      'readable on the way; use https')
  }
  if (!hasClient && !/\/v1$/.test(new URL(apiUrl).pathname)) {
    warnings.push(`authsignal.apiUrl ${apiUrl} does not end in /v1: Authsignal's server API is under /v1 ` +
      '(e.g. https://api.authsignal.com/v1 or https://au.api.authsignal.com/v1), so every call would answer 404')
  }
  return warnings
}
