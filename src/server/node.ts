/**
 * One server process's node: it opens the data directory, starts the peer transport, forms or
 * joins the cluster, and runs the Raft driver with the replicated state. Everything a node
 * does on its own schedule (lease expiry, learner promotion, write_quorum = "all" checks,
 * following membership changes) happens in one housekeeping round per heartbeat interval.
 */
import { EventEmitter } from 'node:events';
import type { Registry } from 'prom-client';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RaftNode, systemClock, type LogStorage, type PersistedState } from '../node/index.js';
import type { ConfState, Message, Ready, Snapshot } from '../raft/index.js';
import { DiskStorage } from '../storage/index.js';
import { ClusterStateMachine, encodeFencingCommand, encodeKvCommand, type ClusterApplyResult, type Member } from '../state/index.js';
import { fenceWithDevices, heartbeatAttemptMs, startAgent, WorkloadLeader, type Agent } from '../workload/index.js';
import { PeerTransport, serverNameOf, type SharedPeerListener } from '../transport/index.js';
import { QuorateError } from '../util/errors.js';
import { silentLogger, withFields, type Logger } from '../util/log.js';
import { Prng } from '../util/prng.js';
import { AllVotersAck } from './all-voters-ack.js';
import { defaultApiPort, formatHostPort, parseHostPort, type ServerConfig } from './config.js';
import { ConsensusCounters } from './counters.js';
import { helloFrom, initialState, isFresh, type Hello } from './formation.js';
import { NodeKvService } from './kv-service.js';
import { AccessControl, logReaders } from './access.js';
import { Admission, type AdmissionSecrets } from './admission.js';
import { gatherClusterStatus, localReport, parseNodeReport, reportTimeoutMs, type ClusterStatus, type NodeReport } from './cluster-status.js';
import { LeaseKeeper } from './lease-keeper.js';
import { Membership } from './membership.js';
import { nodeStatus } from './node-status.js';
import type { NodeStatus } from './service.js';
import { CaRotation } from './ca-rotation.js';
import { NodeTls } from './node-tls.js';
import { topologyWarnings } from './topology.js';
import { TwoNodeWatch } from './two-node.js';
import { NodeMetrics } from './metrics.js';
import { EventLog } from './events.js';
import { LeadershipEvents } from './leadership-events.js';
import { EventingStateMachine } from './log-events.js';
import { certFingerprint } from '../cluster/certs.js';
import { clusterIdOf } from '../cluster/join-token.js';

export interface ServerNodeEvents {
  leaderChanged: [leader: string | null, term: number];
  membershipChanged: [conf: ConfState];
  /** The Raft driver stopped on an error (a bug or a failed disk): the node no longer takes part. */
  fatal: [error: unknown];
  /**
   * two_node: a fence device turned the peer off; whoever runs the node stops it, makes it the
   * only voter (two-node.ts goOnAlone) and starts it again.
   */
  takeover: [peer: string, detail: string];
}

export interface StopOptions {
  /** Hand leadership to the most up-to-date voter first (SIGTERM), so writes pause only briefly. */
  readonly transferLeadership?: boolean;
}

export interface ServerNodeOptions {
  readonly log?: Logger;
  /** The CA key and admin token that let this node admit others (servers made by `cluster init` or `join`). */
  readonly admission?: AdmissionSecrets;
  /**
   * Run as an arbiter (seed 003 option 2; arbiter-host.ts): peers arrive through the arbiter's
   * shared listener, no jobs run here and no workload is led, and leadership, when this node
   * wins it (to repair a lagging data node), goes to a data node as soon as one is caught up.
   */
  readonly arbiter?: { readonly listener: SharedPeerListener };
  /**
   * The registry this node's metrics go to (metrics.ts); a new one by default. A two_node
   * survivor that restarts its node passes the old one, which the API keeps serving.
   */
  readonly metrics?: Registry;
}

const joinRetryMs = 500;

/** The parts a node is built from, made by ServerNode.start in dependency order. */
interface Parts {
  readonly config: ServerConfig;
  readonly storage: DiskStorage;
  readonly transport: PeerTransport;
  readonly raft: RaftNode<ClusterApplyResult>;
  readonly state: ClusterStateMachine;
  readonly counters: ConsensusCounters;
  readonly log: Logger;
  readonly admission: AdmissionSecrets | null;
  readonly tls: NodeTls;
  readonly clusterId: string;
  readonly arbiter: boolean;
  readonly clusterEvents: EventLog;
  readonly metrics: NodeMetrics;
}

export class ServerNode {
  readonly id: string;
  readonly config: ServerConfig;
  readonly events = new EventEmitter<ServerNodeEvents>();
  readonly counters: ConsensusCounters;
  /** What GET /metrics serves and the OTLP exporter sends (metrics.ts). */
  readonly metrics: NodeMetrics;
  readonly state: ClusterStateMachine;
  readonly service: NodeKvService;
  private readonly raft: RaftNode<ClusterApplyResult>;
  private readonly storage: DiskStorage;
  private readonly transport: PeerTransport;
  private readonly log: Logger;
  private readonly leases: LeaseKeeper;
  private readonly membership: Membership;
  private readonly allVotersAck: AllVotersAck;
  private readonly housekeeping: NodeJS.Timeout;
  private readonly workloadLeader: WorkloadLeader;
  /** Null on an arbiter: it is the third voter that makes two_node unnecessary. */
  private readonly twoNode: TwoNodeWatch | null;
  /** This server's own agent (it runs jobs too), unless `run_jobs = false`. */
  private agent: Agent | null = null;
  /** The certificate and trust shared by the peer transport and the API; renewed while running. */
  readonly tls: NodeTls;
  /** The first 16 hex digits of the cluster CA's fingerprint (the etcd API's cluster_id comes from it). */
  readonly clusterId: string;
  private readonly arbiter: boolean;
  /** This node's recent cluster events (events.ts), for GET /v1/events. */
  readonly clusterEvents: EventLog;
  private readonly leadership: LeadershipEvents;
  private readonly rotation: CaRotation;
  /** Peer addresses learned outside the registry (config, hello, join answers), by node id. */
  private readonly knownAddresses = new Map<string, string>();
  private lastLeader: string | null = null;
  private lastConf = '';
  private lastPeers = '';
  private stopping = false;

  private constructor(parts: Parts) {
    this.config = parts.config;
    this.tls = parts.tls;
    this.clusterId = parts.clusterId;
    this.id = parts.config.nodeId;
    this.storage = parts.storage;
    this.transport = parts.transport;
    this.raft = parts.raft;
    this.state = parts.state;
    this.counters = parts.counters;
    this.metrics = parts.metrics;
    this.log = parts.log;
    this.arbiter = parts.arbiter;
    this.clusterEvents = parts.clusterEvents;
    this.leadership = new LeadershipEvents(this.config.electionTimeoutMs, (fact) => this.clusterEvents.record(fact));
    const now = (): number => systemClock.now();
    this.allVotersAck = new AllVotersAck(() => this.raft.status(), now);
    this.workloadLeader = new WorkloadLeader({
      id: this.id,
      registry: this.state.workload,
      // An arbiter leads only for moments (housekeep hands over): agents wait for a data node.
      isLeader: () => !this.arbiter && this.raft.basicStatus().role === 'leader',
      confirmLeader: () => this.raft.read(),
      propose: (command) => this.service.applyWorkload(command),
      now,
      logReaders: () => logReaders(this.state.credentials),
      servers: () => {
        const { voters, learners } = this.raft.status().conf;
        const active = new Set([...voters, ...learners]);
        return this.state.members
          .list()
          .filter((m) => active.has(m.id) && m.arbiter !== true)
          .map((m) => m.apiAddress);
      },
      fencingConfig: () => this.state.fencing.config,
      tlsGrant: (node, report) => this.rotation.grant(node, report),
      recordFence: async (event) => {
        await this.service.propose(encodeFencingCommand({ op: 'fenceRecord', event }));
        this.metrics.fenced(event);
      },
      // Fencing history timestamps are for people reading `fence history`.
      wallClock: () => Date.now(),
      log: this.log,
      heard: (node) => this.metrics.heartbeatReceived(node),
    });
    this.leases = new LeaseKeeper({ now, isLeader: () => this.raft.basicStatus().role === 'leader', leaseTtls: () => this.state.kv.leaseTtls(), revoke: (id) => this.revokeExpired(id) });
    this.rotation = new CaRotation({
      config: this.config,
      clusterId: parts.clusterId,
      state: this.state,
      tls: this.tls,
      adminToken: parts.admission?.adminToken ?? null,
      isLeader: () => this.raft.basicStatus().role === 'leader',
      leader: () => this.raft.basicStatus().leader,
      propose: (data) => this.service.propose(data),
      memberReports: async () => (await this.clusterStatus()).members.map((m) => ({ id: m.id, report: m.report })),
      workerReport: (id) => this.workloadLeader.tlsReport(id),
      request: (to, method, body, timeoutMs) => this.transport.request(to, method, body, timeoutMs),
      log: this.log,
    });
    this.service = new NodeKvService({
      id: this.id,
      raft: this.raft,
      state: this.state,
      leases: this.leases,
      allVotersAck: this.allVotersAck,
      writeQuorum: this.config.writeQuorum,
      requestTimeoutMs: this.config.requestTimeoutMs,
      counters: this.counters,
      leader: () => this.raft.basicStatus().leader,
      isStopped: () => this.stopping || this.raft.isStopped(),
      now,
      request: (to, method, body, timeoutMs) => this.transport.request(to, method, body, timeoutMs),
      status: () => this.status(),
      clusterStatus: () => this.clusterStatus(),
      removeMember: (id) => this.removeMember(id),
      clusterId: parts.clusterId,
      workloadLeader: this.workloadLeader,
      allocationRoot: parts.config.runJobs ? allocationRoot(parts.config) : null,
      leave: () => this.leave(),
      admission: new Admission({
        state: this.state,
        clusterName: this.config.clusterName,
        // Token expiry is wall-clock time: it must mean the same on every server.
        now: () => Date.now(),
        propose: (data) => this.service.propose(data),
        activeIds: () => {
          const { voters, learners } = this.raft.status().conf;
          return new Set([...voters, ...learners]);
        },
        secrets: parts.admission,
        tls: parts.tls,
        clusterId: parts.clusterId,
      }),
      access: new AccessControl({ state: this.state, propose: (data) => this.service.propose(data), now: () => Date.now() }),
      rotation: this.rotation,
      events: this.clusterEvents,
    });
    this.twoNode = this.arbiter ? null : new TwoNodeWatch({
      id: this.id,
      status: () => this.raft.status(),
      fencing: () => this.state.fencing.config,
      addressOf: (id) => {
        const member = this.state.members.get(id);
        return member === undefined ? '' : parseHostPort(member.peerAddress, 'member address').host;
      },
      now,
      electionTimeoutMs: this.config.electionTimeoutMs,
      fence: fenceWithDevices,
      takeOver: (peer, detail) => this.events.emit('takeover', peer, detail),
      log: this.log,
    });
    this.membership = new Membership({ raft: this.raft, members: this.state.members, log: this.log, propose: (data) => this.service.propose(data), twoNode: () => this.state.fencing.config.twoNode === true, metrics: this.metrics });
    for (const member of this.config.initialCluster) if (member.id !== null) this.knownAddresses.set(member.id, member.peerAddress);
    this.tls.on('changed', (material) => this.transport.updateTls(material));
    // An arbiter holds no CA key (by design): the leader renews its certificate.
    if (parts.arbiter) this.tls.renewThrough(() => this.rotation.requestCertificate());
    this.tls.start();
    this.metrics.start({ counters: this.counters, raft: () => this.raft.status(), peers: () => this.transport.peerStatus(), allocations: () => this.state.workload.allocations(), tls: () => this.tls.info() }, this.config, this.log);
    this.housekeeping = setInterval(() => this.housekeep(), this.config.heartbeatIntervalMs);
    this.housekeep();
  }

  /** Open the data directory, then form the cluster, join it, or resume where the node was. */
  static async start(config: ServerConfig, options: ServerNodeOptions = {}): Promise<ServerNode> {
    const holder: { node: ServerNode | null } = { node: null };
    // Every line the node logs carries its current term, once its Raft node runs.
    const log = withFields(options.log ?? silentLogger, () => (holder.node === null ? {} : { term: holder.node.term }));
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const metrics = new NodeMetrics(options.metrics);
    const storage = await DiskStorage.open({ dir: config.dataDir, warn: (message) => log.log('warn', message), observer: metrics });
    let transport: PeerTransport | null = null;
    try {
      const persisted = await storage.load();
      const nodeTls = await NodeTls.load(config, log);
      const tls = nodeTls.material;
      const clusterId = config.clusterId ?? clusterIdOf(certFingerprint(tls.caPem));
      transport = await PeerTransport.start({
        nodeId: config.nodeId,
        clusterId: config.clusterName,
        listenHost: config.listen.host,
        listenPort: config.listen.port,
        advertiseHost: config.advertise.host,
        tls,
        onMessage: (m: Message) => holder.node?.receive(m),
        onSnapshotStatus: (to: string, ok: boolean) => holder.node?.raft.reportSnapshot(to, ok),
        onRequest: (from: string, method: string, body: unknown) =>
          holder.node !== null ? holder.node.handleRequest(from, method, body) : Promise.resolve(preStartAnswer(config.nodeId, method, persisted)),
        log: (level, message, fields) => log.log(level, message, fields),
        serverName: serverNameOf(clusterId),
        ...(options.arbiter === undefined ? {} : { sharedListener: options.arbiter.listener }),
      });
      const started = transport;
      if (isFresh(persisted) && !config.initialCluster.some((m) => m.id === config.nodeId)) {
        throw new QuorateError(
          'no_raft_state',
          `${config.dataDir} holds no Raft state and this node is not a founding member that could create it: its log was lost or never written. Join the node again (quorate cluster join) or restore a backup`,
        );
      }
      const initial = isFresh(persisted) ? await initialState(config, (address) => hello(started, address), log) : persisted;
      if (initial !== persisted && initial.snapshot !== null) await storage.save({ hardState: initial.hardState, entries: [], snapshot: initial.snapshot, sync: true });
      const state = new ClusterStateMachine();
      // Event times are for people: wall-clock time.
      const clusterEvents = new EventLog(() => Date.now());
      const counters = new ConsensusCounters();
      const raft = await RaftNode.start<ClusterApplyResult>({
        id: config.nodeId,
        storage: preloaded(storage, initial),
        transport: started,
        clock: systemClock,
        stateMachine: metrics.timed(new EventingStateMachine(state, (fact) => clusterEvents.record(fact), initial.hardState.commit)),
        prng: new Prng(randomBytes(4).readUInt32LE(0)),
        timings: { heartbeatMs: config.heartbeatIntervalMs, electionMs: config.electionTimeoutMs },
        requestTimeoutMs: config.requestTimeoutMs,
        raft: { snapshotEntries: config.snapshotEntries, snapshotTrailingEntries: config.snapshotTrailingEntries },
        observer: {
          ready: (_id: string, rd: Ready) => {
            counters.observe(rd);
            // At once, before this Ready's committed entries are applied: a new leader is
            // announced ahead of the events its term's entries make (housekeeping would be late).
            if (rd.softState !== null) holder.node?.observeLeadership();
          },
          restored: (_id: string, snapshot: Snapshot) => log.log('info', 'installed a snapshot from the leader', { index: snapshot.meta.index, snapshotTerm: snapshot.meta.term }),
          snapshotUnreadable: (_id: string, error: unknown) => log.log('warn', 'could not read a stored snapshot to send it to a follower; will try again', { error: String(error) }),
          fatal: (_id: string, error: unknown) => {
            log.log('error', 'the Raft driver stopped on an error; restart the node', { error: String(error) });
            holder.node?.events.emit('fatal', error);
          },
        },
      });
      const arbiter = options.arbiter !== undefined;
      holder.node = new ServerNode({ config, storage, transport: started, raft, state, counters, log, admission: options.admission ?? null, tls: nodeTls, clusterId, arbiter, clusterEvents, metrics });
      if (initial.snapshot === null) holder.node.joinInBackground();
      if (config.runJobs && !arbiter) await holder.node.startAgent();
      log.log('info', 'node started', { node: config.nodeId, peer: formatHostPort(config.advertise), dataDir: config.dataDir });
      return holder.node;
    } catch (error) {
      await transport?.close();
      await storage.close();
      await metrics.close();
      throw error;
    }
  }

  /** Run jobs here too: heartbeats go straight to this node's service (which finds the leader). */
  private async startAgent(): Promise<void> {
    this.agent = await startAgent({
      id: this.id,
      role: 'server',
      address: this.config.advertise.host,
      apiAddress: formatHostPort(this.config.api),
      watchdogTimeoutMs: this.config.watchdogTimeoutMs,
      labels: this.config.labels,
      ...(this.config.watchdogDevice === null ? {} : { watchdogDevice: this.config.watchdogDevice }),
      dir: jobsDir(this.config),
      // Forwarded to the leader; an attempt stuck on a leader that was cut off ends in time for the next one.
      link: { heartbeat: (request) => this.service.agentHeartbeat(request, heartbeatAttemptMs(this.config.watchdogTimeoutMs)) },
      log: this.log,
    });
  }

  status(): NodeStatus {
    return nodeStatus(this.raft.status(), this.state.members, this.transport.peerStatus(), this.state.kv.revision, this.config);
  }

  /** What this node says about itself in `cluster status` (peer RPC `node.report`). */
  private report(): NodeReport {
    return localReport(this.status(), this.tls.info(), this.config.insecureApi, this.transport.snapshotProgress());
  }

  /** The current Raft term: cheap enough for every log line to carry it. */
  get term(): number {
    return this.raft.basicStatus().term;
  }

  clusterStatus(): Promise<ClusterStatus> {
    return gatherClusterStatus({
      self: this.status(),
      report: () => this.report(),
      ask: async (id) => parseNodeReport(await this.transport.request(id, 'node.report', null, reportTimeoutMs), id),
      topology: (voters) => {
        const { workload, fencing } = this.state;
        const stopJobs = workload.jobs().filter((job) => !job.stopped && (job.spec.noQuorumPolicy ?? fencing.config.noQuorumPolicy) === 'stop').length;
        const waiting = this.twoNode?.waiting() ?? null;
        return [...topologyWarnings({ voters, nodes: workload.nodes(), fencing: fencing.config, stopJobs }), ...(waiting === null ? [] : [waiting])];
      },
    });
  }

  /** Stop serving; with transferLeadership, a leader first hands over to a caught-up voter. */
  async stop(options: StopOptions = {}): Promise<void> {
    if (this.stopping) return;
    if (options.transferLeadership === true) await this.handOverLeadership();
    // The jobs keep running under the fence: a restart within the watchdog timeout takes them over.
    await this.agent?.stop('detach');
    this.stopping = true;
    clearInterval(this.housekeeping);
    this.tls.stop();
    this.raft.stop();
    this.allVotersAck.rejectAll(new QuorateError('unavailable', `node ${this.id} is stopping`));
    await this.transport.close();
    await this.storage.close();
    await this.metrics.close();
    this.log.log('info', 'node stopped', { node: this.id });
  }

  private receive(m: Message): void {
    this.raft.receive(m);
    this.allVotersAck.check();
  }

  private async handleRequest(from: string, method: string, body: unknown): Promise<unknown> {
    switch (method) {
      case 'tls.issue':
        // `from` is the node id its certificate proved at the hello.
        return this.rotation.issueFor(from);
      case 'ca.rotation':
        return this.rotation.view();
      case 'cluster.hello':
        return this.hello();
      case 'cluster.join':
        return this.joinRequest(body);
      case 'node.report':
        return this.report();
      case 'cluster.remove':
        return this.removeMember(memberId(body));
      case 'cluster.promote':
        return this.promoteMember(memberId(body));
      default:
        return this.service.handle(method, body);
    }
  }

  private hello(): Hello {
    return helloFrom(this.id, this.raft.status().conf);
  }

  /** Any member takes a join request; the leader runs it. Answers with the members' addresses. */
  private async joinRequest(body: unknown): Promise<{ members: Member[] }> {
    const member = asMember(body);
    await this.service.routed('cluster.join', member, () => this.membership.join(member));
    return { members: this.state.members.list() };
  }

  /**
   * A node that starts with an empty log asks the members it knows of to add it, until one
   * does; the leader then sends it a snapshot and the log, and promotes it when caught up.
   */
  private joinInBackground(): void {
    const self: Member = { id: this.id, peerAddress: formatHostPort(this.config.advertise), apiAddress: formatHostPort(this.config.api) };
    const targets = this.config.initialCluster.filter((m) => m.bootstrap && m.peerAddress !== self.peerAddress).map((m) => m.peerAddress);
    const attempt = async (): Promise<void> => {
      for (let round = 0; !this.stopping; round++) {
        const target = targets[round % targets.length];
        if (target === undefined) return;
        try {
          const answer = (await this.transport.requestAddress(target, 'cluster.join', self, this.config.requestTimeoutMs)) as { members?: unknown };
          for (const member of Array.isArray(answer.members) ? answer.members : []) {
            const known = asMember(member);
            this.knownAddresses.set(known.id, known.peerAddress);
          }
          this.syncPeers();
          this.log.log('info', 'joined the cluster as a learner; catching up', { via: target });
          return;
        } catch (error) {
          this.log.log('info', 'join attempt failed; retrying', { via: target, reason: (error as Error).message });
          await sleep(joinRetryMs);
        }
      }
    };
    void attempt();
  }

  /** Leader and quorum events from this node's Raft state now (leadership-events.ts). */
  private observeLeadership(): void {
    const { leader, term } = this.raft.basicStatus();
    this.leadership.observe(leader, term, systemClock.now());
  }

  private housekeep(): void {
    if (this.stopping) return;
    const { role, leader, term } = this.raft.basicStatus();
    this.leases.expire();
    this.workloadLeader.tick();
    this.twoNode?.tick();
    this.observeLeadership();
    this.rotation.tick(systemClock.now());
    if (role === 'leader') {
      this.membership.maybePromote();
      if (this.arbiter) this.handToDataNode();
    }
    this.allVotersAck.check();
    if (leader !== this.lastLeader) {
      this.lastLeader = leader;
      this.log.log(leader === null ? 'warn' : 'info', leader === null ? 'no leader known' : 'leader elected', { leader });
      this.events.emit('leaderChanged', leader, term);
    }
    const conf = this.raft.status().conf;
    const confKey = JSON.stringify(conf);
    if (confKey !== this.lastConf) {
      this.lastConf = confKey;
      this.events.emit('membershipChanged', conf);
    }
    this.syncPeers();
  }

  /**
   * An arbiter that leads hands leadership to a data voter whose log is complete (the transfer
   * needs no catching up, so writes pause only for one election round); until one is, it keeps
   * replicating, which is what repairs a lagging data node.
   */
  private handToDataNode(): void {
    const status = this.raft.status();
    if (status.leadTransferee !== null) return;
    const target = status.conf.voters.find((id) => id !== this.id && this.state.members.get(id)?.arbiter !== true && status.progress.get(id)?.match === status.lastIndex);
    if (target === undefined) return;
    this.log.log('info', 'an arbiter does not keep leadership: handing it to a caught-up data node', { target });
    this.raft.transferLeader(target);
  }

  /** Dial the registry's members, and those known otherwise that the registry lacks so far. */
  private syncPeers(): void {
    const peers = new Map(this.knownAddresses);
    for (const member of this.state.members.list()) peers.set(member.id, member.peerAddress);
    peers.delete(this.id);
    const key = JSON.stringify([...peers].sort());
    if (key === this.lastPeers) return;
    this.lastPeers = key;
    this.transport.setPeers(peers);
  }

  private async revokeExpired(id: number): Promise<void> {
    try {
      await this.service.propose(encodeKvCommand({ op: 'leaseRevoke', id }));
      this.log.log('info', 'lease expired', { lease: id });
    } catch (error) {
      this.log.log('warn', 'could not revoke an expired lease; retrying', { lease: id, reason: (error as Error).message });
    }
  }

  /** Remove a member through the leader (`quorate node remove`); needs quorum. */
  async removeMember(id: string): Promise<void> {
    await this.service.routed('cluster.remove', { id }, () => this.membership.remove(id));
  }

  /**
   * etcd's MemberAdd: record a server at `peerAddress` under the next free numeric id and add it
   * as a learner now, so that the node started there with that `node_id` (and `status = 0`)
   * joins as a member already known. It is promoted like any learner once caught up.
   */
  async addMember(peerAddress: string): Promise<Member> {
    const known = this.state.members.list().find((m) => m.peerAddress === peerAddress);
    if (known !== undefined && this.status().members.some((m) => m.id === known.id)) throw new QuorateError('peer_exists', `member ${known.id} already has peer address ${peerAddress}`);
    const taken = new Set([...this.state.members.list().map((m) => m.id), ...this.state.workload.nodes().map((n) => n.id)]);
    let free = 1;
    while (taken.has(String(free))) free++;
    const member: Member = { id: String(free), peerAddress, apiAddress: formatHostPort({ host: parseHostPort(peerAddress, 'peer address').host, port: defaultApiPort }) };
    await this.joinRequest(member);
    return member;
  }

  /** etcd's MemberPromote: promote a caught-up learner now, through the leader. */
  async promoteMember(id: string): Promise<void> {
    await this.service.routed('cluster.promote', { id }, () => this.membership.promoteNow(id));
  }

  /** `quorate cluster leave`: hand leadership over if this node leads, then remove itself. */
  async leave(): Promise<void> {
    const { voters } = this.raft.status().conf;
    if (voters.length === 1 && voters[0] === this.id) throw new QuorateError('last_voter', `${this.id} is the only voter: the cluster would be gone. Stop it with \`quorate stop\` instead`);
    await this.handOverLeadership();
    if (this.raft.basicStatus().role === 'leader') throw new QuorateError('unavailable', `${this.id} could not hand leadership over (no caught-up voter answered); try again`);
    await this.removeMember(this.id);
  }

  /** Transfer leadership to the voter with the longest log and wait (bounded) until it leads. */
  private async handOverLeadership(): Promise<void> {
    const status = this.raft.status();
    if (status.role !== 'leader') return;
    const candidates = status.conf.voters.filter((id) => id !== this.id);
    const target = candidates.sort((a, b) => (status.progress.get(b)?.match ?? 0) - (status.progress.get(a)?.match ?? 0))[0];
    if (target === undefined) return;
    try {
      this.raft.transferLeader(target);
    } catch (error) {
      this.log.log('warn', 'leadership transfer refused; stopping anyway', { target, reason: (error as Error).message });
      return;
    }
    const deadline = systemClock.now() + 2 * this.config.electionTimeoutMs;
    while (this.raft.basicStatus().role === 'leader' && systemClock.now() < deadline) await sleep(5);
    this.log.log('info', 'leadership handed over before stopping', { target, done: this.raft.basicStatus().role !== 'leader' });
  }
}

/** Before the Raft node runs, a peer can only learn who we are and whether we hold a log. */
function preStartAnswer(id: string, method: string, persisted: PersistedState): Hello {
  if (method !== 'cluster.hello') throw new QuorateError('unavailable', `node ${id} is starting`);
  return helloFrom(id, persisted.snapshot?.meta.conf);
}

async function hello(transport: PeerTransport, address: string): Promise<Hello> {
  const answer = await transport.requestAddress(address, 'cluster.hello', null, 1000);
  if (typeof answer !== 'object' || answer === null) throw new QuorateError('bad_response', `${address} answered hello with ${String(answer)}`);
  const { id, bootstrapped, members } = answer as Record<string, unknown>;
  if (typeof id !== 'string' || typeof bootstrapped !== 'boolean' || !Array.isArray(members)) throw new QuorateError('bad_response', `${address} answered hello with a malformed message`);
  return { id, bootstrapped, members: members.map(String) };
}

function memberId(body: unknown): string {
  const id = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).id : undefined;
  if (typeof id !== 'string') throw new QuorateError('bad_request', 'cluster.remove and cluster.promote need a member id');
  return id;
}

function asMember(body: unknown): Member {
  const record = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const { id, peerAddress, apiAddress } = record;
  if (typeof id !== 'string' || typeof peerAddress !== 'string' || typeof apiAddress !== 'string') {
    throw new QuorateError('bad_request', 'a member needs id, peerAddress and apiAddress strings');
  }
  return { id, peerAddress, apiAddress };
}

/** A server's jobs live beside its Raft state. */
function jobsDir(config: ServerConfig): string {
  return join(config.dataDir, 'jobs');
}

function allocationRoot(config: ServerConfig): string {
  return join(jobsDir(config), 'alloc');
}

/** Hand RaftNode the state this module already loaded (or made), instead of reading it twice. */
function preloaded(storage: DiskStorage, state: PersistedState): LogStorage {
  return {
    load: () => Promise.resolve(state),
    save: (update) => storage.save(update),
    saveSnapshot: (snapshot) => storage.saveSnapshot(snapshot),
    saveSnapshotChunks: (meta, chunks) => storage.saveSnapshotChunks(meta, chunks),
    loadSnapshot: (meta) => storage.loadSnapshot(meta),
    compact: (index) => storage.compact(index),
  };
}
