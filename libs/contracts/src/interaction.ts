import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { Limits } from './limits';
import { healthSubject, scopedStreamId } from './subjects';
import { ID_SCHEMA, IsJsonObject, IsParleyId, IsStringRecord, MaxJsonBytes } from './validation';

/**
 * The interaction service: the record a contact centre keeps about one customer contact (a
 * Genesys conversation, a Talkdesk contact, a web visit), with its type and free-form data.
 * Subjects follow `parley.<service>.cmd|qry.<name>`.
 */
export const InteractionCommands = {
  create: 'parley.interaction.cmd.create',
  update: 'parley.interaction.cmd.update',
} as const;

export const InteractionQueries = {
  get: 'parley.interaction.qry.get',
  page: 'parley.interaction.qry.page',
  health: healthSubject('interaction'),
} as const;

/** Event streams: `interaction/<org>/<interactionId>`. */
export const INTERACTION_CONTEXT = 'interaction';
export const interactionStreamId = (organizationId: string, interactionId: string): string => scopedStreamId(INTERACTION_CONTEXT, organizationId, interactionId);

/** An interaction's type: a word of the integration's choosing ("video call", "chat"). */
const TYPE_MAX = 256;
const interactionIdSchema = { ...ID_SCHEMA, description: 'The interaction id (an integration\'s own id, e.g. a Genesys conversation id, or one the server made).', example: 'c1f0a6d2-3b5e-4e1f-9a7c-2d4b8e6f1a3c' };
const dataSchema = {
  type: 'object',
  additionalProperties: true,
  description: `Arbitrary data of the interaction. At most ${Limits.documentBytes} bytes as JSON.`,
} as const;

export type InteractionDomainEvent =
  | {
      type: 'InteractionCreatedEvent';
      schemaVersion: 1;
      data: { interactionId: string; organizationId: string; createdBy: string; createdAt: string; type?: string; data: Record<string, unknown> };
    }
  | {
      type: 'InteractionUpdatedEvent';
      schemaVersion: 1;
      /** An absent `type` or `data` is left as it was; a present `data` replaces all of it. */
      data: { interactionId: string; organizationId: string; updatedBy: string; updatedAt: string; type?: string; data?: Record<string, unknown> };
    };

export class CreateInteractionWebCommand {
  @ApiPropertyOptional({ ...interactionIdSchema, description: "Supply the id (an integration's own, e.g. a Genesys conversation id), or leave it out and the server makes one. An id that exists is 409." })
  @IsOptional() @IsParleyId()
  interactionId?: string;

  @ApiPropertyOptional({ description: 'The type of interaction, e.g. "video call".', maxLength: TYPE_MAX })
  @IsOptional() @IsString() @MaxLength(TYPE_MAX)
  type?: string;

  @ApiPropertyOptional(dataSchema)
  @IsOptional() @IsJsonObject() @MaxJsonBytes(Limits.documentBytes)
  data?: Record<string, unknown>;
}

export class UpdateInteractionWebCommand {
  @ApiPropertyOptional({ description: 'The type of interaction; left as it is when omitted.', maxLength: TYPE_MAX })
  @IsOptional() @IsString() @MaxLength(TYPE_MAX)
  type?: string;

  @ApiPropertyOptional({ ...dataSchema, description: `Interaction data; left as it is when omitted, and when supplied it replaces all data. At most ${Limits.documentBytes} bytes as JSON.` })
  @IsOptional() @IsJsonObject() @MaxJsonBytes(Limits.documentBytes)
  data?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'integer', format: 'int64', minimum: 0, description: 'The version the client read (optimistic locking): when given and the interaction is at another version, 409 and nothing changes.' })
  @IsOptional() @IsInt() @Min(0)
  version?: number;
}

/** The update as sent to the interaction service: the body and the id from the path. */
export class UpdateInteractionCommand extends UpdateInteractionWebCommand {
  @IsParleyId() interactionId!: string;
}

export class InteractionIdQuery {
  @IsParleyId() interactionId!: string;
}

export class CreateInteractionResponse {
  @ApiProperty(interactionIdSchema) interactionId!: string;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Its version: 1 once created, one more with each update.' }) version!: number;
}

export class Interaction {
  @ApiProperty(interactionIdSchema) id!: string;
  @ApiProperty() organizationId!: string;
  @ApiProperty({ description: 'The user that created it.' }) createdBy!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiPropertyOptional() type?: string;
  @ApiProperty(dataSchema) data!: Record<string, unknown>;
  @ApiProperty({ type: 'integer', format: 'int64' }) version!: number;
}

/** What an interaction list may be sorted by, in the spec's property names. */
export const INTERACTION_SORT_PROPERTIES = ['createdAt', 'type', 'id'] as const;
export type InteractionSortProperty = (typeof INTERACTION_SORT_PROPERTIES)[number];
export const SORT_DIRECTIONS = ['ASC', 'DESC'] as const;
export const INTERACTION_PAGE_MAX = 1000;
export const INTERACTION_PAGE_DEFAULT = 20;
/** The most `params` pairs and sort orders one list request may give. */
export const INTERACTION_FILTERS_MAX = 16;

export class InteractionSortOrder {
  @IsIn(INTERACTION_SORT_PROPERTIES) property!: InteractionSortProperty;
  @IsIn(SORT_DIRECTIONS) direction!: (typeof SORT_DIRECTIONS)[number];
}

/** A page of an organization's interactions as sent to the interaction service (the gateway parsed the query string). */
export class InteractionPageQuery {
  @IsISO8601({ strict: true }) start!: string;
  @IsISO8601({ strict: true }) end!: string;
  @IsStringRecord() params!: Record<string, string>;
  @IsInt() @Min(0) @Max(1_000_000) page!: number;
  @IsInt() @Min(1) @Max(INTERACTION_PAGE_MAX) size!: number;
  @IsArray() @ArrayMaxSize(INTERACTION_FILTERS_MAX) @ValidateNested({ each: true }) @Type(() => InteractionSortOrder) sort!: InteractionSortOrder[];
}

/** Spring Data's SortObject, as the spec shows it. */
export class SortObject {
  @ApiProperty({ enum: SORT_DIRECTIONS }) direction!: string;
  @ApiProperty({ description: 'Always NATIVE: the database orders nulls (an interaction without a type) last ascending, first descending.' }) nullHandling!: string;
  @ApiProperty() ascending!: boolean;
  @ApiProperty({ enum: INTERACTION_SORT_PROPERTIES }) property!: string;
  @ApiProperty() ignoreCase!: boolean;
}

export class PageableObject {
  @ApiProperty({ type: 'integer', format: 'int64' }) offset!: number;
  @ApiProperty({ type: [SortObject] }) sort!: SortObject[];
  @ApiProperty({ type: 'integer' }) pageSize!: number;
  @ApiProperty() paged!: boolean;
  @ApiProperty({ type: 'integer' }) pageNumber!: number;
  @ApiProperty() unpaged!: boolean;
}

export class PageInteraction {
  @ApiProperty({ type: 'integer' }) totalPages!: number;
  @ApiProperty({ type: 'integer', format: 'int64' }) totalElements!: number;
  @ApiProperty() first!: boolean;
  @ApiProperty() last!: boolean;
  @ApiProperty({ type: 'integer' }) size!: number;
  @ApiProperty({ type: [Interaction] }) content!: Interaction[];
  @ApiProperty({ type: 'integer' }) number!: number;
  @ApiProperty({ type: [SortObject] }) sort!: SortObject[];
  @ApiProperty({ type: 'integer' }) numberOfElements!: number;
  @ApiProperty({ type: PageableObject }) pageable!: PageableObject;
  @ApiProperty() empty!: boolean;
}

/** The spec's SortObject of one order. */
export const sortObject = (o: InteractionSortOrder): SortObject => ({ direction: o.direction, nullHandling: 'NATIVE', ascending: o.direction === 'ASC', property: o.property, ignoreCase: false });

/** A PageInteraction of `content`, the page asked for and the total that matched. */
export function interactionPage(content: Interaction[], query: Pick<InteractionPageQuery, 'page' | 'size' | 'sort'>, totalElements: number): PageInteraction {
  const sort = query.sort.map(sortObject);
  const totalPages = Math.ceil(totalElements / query.size);
  return {
    totalPages,
    totalElements,
    first: query.page === 0,
    last: query.page >= totalPages - 1,
    size: query.size,
    content,
    number: query.page,
    sort,
    numberOfElements: content.length,
    pageable: { offset: query.page * query.size, sort, pageSize: query.size, paged: true, pageNumber: query.page, unpaged: false },
    empty: content.length === 0,
  };
}
