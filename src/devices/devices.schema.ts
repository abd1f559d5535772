/** The devices module's input shapes (zod) and the JSON shape of a device in the API. */
import { z } from 'zod';
import { optionalText } from '../shared/schema.ts';
import { PLATFORMS } from './devices.tables.ts';


/** Fields of a device as the API and the service accept them. */
export const deviceFields = {
  name: z.string().trim().min(1, 'must not be empty').max(100),
  assetTag: optionalText(64),
  serial: optionalText(64),
  platform: z.enum(PLATFORMS, { error: () => `is not a platform; use one of ${PLATFORMS.join(', ')}` }),
  ownerId: z.string().min(1).max(100).nullish(),
  groupId: z.string().min(1).max(100).nullish(),
};

/** Body of `POST /api/devices`. */
export const deviceCreateSchema = z.object(deviceFields);
/** Body of `PATCH /api/devices/:id`: any subset of the fields. */
export const devicePatchSchema = z.object(deviceFields).partial();

/** A device in API responses (never the token or its hash). */
export const deviceJson = z.object({
  id: z.string(),
  name: z.string(),
  assetTag: z.string().nullable(),
  serial: z.string().nullable(),
  platform: z.enum(PLATFORMS),
  ownerId: z.string().nullable(),
  groupId: z.string().nullable(),
  tokenRotatedAt: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  retiredAt: z.string().nullable(),
});
