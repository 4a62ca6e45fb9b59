/** One member as the dashboard's `GET /dashboard/api/cluster` reports it (served by a member, read by the page). */
export interface DashboardMemberStatus {
  id: string;
  name: string;
  clientURLs: string[];
  peerURLs: string[];
  up: boolean;
  error?: string;
  isLeader: boolean;
  leaderId?: string;
  term?: number;
  commitIndex?: number;
  appliedIndex?: number;
  storeIndex?: number;
  startTime?: string;
  /** Follower latency as the leader measures it (ms), for followers. */
  latency?: { current: number; average: number; maximum: number };
}
