// The part of autocannon's API the benchmark uses (autocannon ships no types).
declare module 'autocannon' {
  export interface RequestData {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string | Buffer
  }

  export interface Request extends RequestData {
    setupRequest?: (request: RequestData, context: Record<string, unknown>) => RequestData
  }

  export interface Options {
    url: string
    connections?: number
    pipelining?: number
    duration?: number
    amount?: number
    timeout?: number
    method?: string
    headers?: Record<string, string>
    requests?: Request[]
  }

  export interface Result {
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    '2xx': number
    '4xx': number
    '5xx': number
    latency: { p50: number, p99: number, average: number }
    statusCodeStats: Record<string, { count: number }>
  }

  export default function autocannon (options: Options): Promise<Result>
}
