// Declares the routes' bearer scheme in a host's @fastify/swagger document, so that a host with swagger's default
// options documents how to call them (a client generated from a document without it sends no token).
// A plugin cannot reach the host's swagger options, and swagger looks every security requirement up in the
// document's schemes (a missing one breaks the whole document): a route's own `config.swaggerTransform` is the
// one hook swagger hands the document it is building, before it reads that route.
import type { FastifyInstance } from 'fastify'
import type { ResolvedOpenApi } from '../options/index.js'

type Schemes = Record<string, unknown> | undefined
interface Swagger2Document { securityDefinitions?: Schemes }

/** The parts of the document under construction that this transform touches: OpenAPI 3's, else Swagger 2.0's. */
interface SwaggerTransformInput {
  schema: unknown
  url: string
  openapiObject?: { components: { securitySchemes?: Schemes } }
  swaggerObject?: Swagger2Document
}

const DESCRIPTION = 'A Cognito user pool token: `Authorization: Bearer <token>`'

/** A copy of `schemes` with `name` declared, unless the host declared it already (then theirs stands). */
function withScheme (schemes: Schemes, name: string, scheme: Record<string, string>): Schemes {
  return schemes?.[name] === undefined ? { ...schemes, [name]: scheme } : schemes
}

export function declareSecurityScheme (fastify: FastifyInstance, openapi: ResolvedOpenApi): void {
  const name = openapi.securityScheme
  // Copies, never the host's own objects: swagger builds each document from the host's options again.
  const swaggerTransform = ({ schema, url, openapiObject, swaggerObject }: SwaggerTransformInput) => {
    if (openapiObject !== undefined) {
      openapiObject.components.securitySchemes = withScheme(openapiObject.components.securitySchemes, name,
        { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: DESCRIPTION })
    } else {
      const document = swaggerObject as Swagger2Document
      document.securityDefinitions = withScheme(document.securityDefinitions, name,
        { type: 'apiKey', in: 'header', name: 'Authorization', description: DESCRIPTION })
    }
    return { schema, url }
  }
  fastify.addHook('onRoute', (route) => {
    // A route's transform replaces the host's global `transform` for that route: hidden ones (the webhook) keep it.
    if ((route.schema as { hide?: boolean }).hide === true) return
    route.config = { ...route.config, swaggerTransform } as typeof route.config
  })
}
