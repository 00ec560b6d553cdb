// An OpenAPI 3 document of the host's routes, the plugin's four included, and Swagger UI at
// /documentation (the document itself at /documentation/json and /documentation/yaml).
// Call it BEFORE registering the plugin: @fastify/swagger collects routes as they are added.
// The plugin's routes carry summary, description, tags, request and response schemas and
// `security: [{ bearerAuth: [] }]`; this file declares what `bearerAuth` is.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

export const DOCUMENTATION_PREFIX = '/documentation'

export async function registerOpenApi (app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'fastify-authsignal-cognito',
        description: 'Let Amazon Cognito users enrol, list and remove their Authsignal authenticators. ' +
          'Every route needs a Cognito access token: `Authorization: Bearer <token>`.',
        version: '0.1.0'
      },
      tags: [
        { name: 'authenticators', description: 'The signed-in user\'s Authsignal authenticators' },
        { name: 'support', description: 'Staff in the support groups acting on another user\'s authenticators (a lost phone)' }
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A Cognito user pool access token' }
        }
      }
    }
  })
  await app.register(swaggerUi, { routePrefix: DOCUMENTATION_PREFIX })
}
