import { userIdOfChannel } from "@mechamap/protocol";
import type { ChannelAuthorizer, ChannelVerdict } from "./ports";

/** `user.{id}` belongs to that user alone; every other channel is the authorizer's call. */
export async function checkChannelAccess(
  authorizer: ChannelAuthorizer,
  userId: string | null,
  channel: string,
): Promise<ChannelVerdict> {
  const owner = userIdOfChannel(channel);
  if (owner !== undefined) return owner === userId ? "allowed" : "forbidden";
  return authorizer.authorize(userId, channel);
}

/** CHANNEL_AUTH=none: every channel but other users' own is public. */
export const publicChannels: ChannelAuthorizer = { authorize: async () => "allowed" };
