'use strict'
// KafkaJS 2.2.4 against a real strata broker (node --test).
//
// Produce: keys, headers and null values, uncompressed, GZIP (built in),
// Snappy (kafkajs-snappy) and LZ4 (kafkajs-lz4, native lz4 built by npm);
// @kafkajs/zstd does not build here (its native cppzst fails against this
// Node's headers), so no ZSTD.
// What KafkaJS produced is read back with kafka-python (../dump_topic.py, no
// consumer group) and checked byte-exact and in order per partition.
// The KafkaJS group consumer reads the topic back as a consumer group.
// Admin: createTopics, fetchTopicMetadata, describeConfigs, alterConfigs,
// createPartitions, deleteTopics, fetchTopicOffsets, listTopics.

const { test, before, after } = require('node:test')
const assert = require('node:assert')
const path = require('node:path')
const { Kafka, logLevel, CompressionTypes, CompressionCodecs, ConfigResourceTypes, Partitioners } = require('kafkajs')
const { Broker, waitUntil, withLog, runSync } = require('./harness')

const PARTITIONS = 3
const N = 300
const DUMP = path.join(__dirname, '..', 'dump_topic.py')
const PYTHON = '/usr/bin/python3'
// An hour before the run, on the hour: recent, so time-based retention keeps it.
const BASE_TS = (Math.floor(Date.now() / 3600000) - 1) * 3600000

let lz4Error = null
try {
  const LZ4Codec = require('kafkajs-lz4')
  CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec
} catch (e) {
  lz4Error = e
}
let snappyError = null
try {
  CompressionCodecs[CompressionTypes.Snappy] = require('kafkajs-snappy')
} catch (e) {
  snappyError = e
}

let broker
let kafka
let admin

before(async () => {
  broker = new Broker({ name: 'kafkajs' })
  await broker.start()
  kafka = new Kafka({
    clientId: 'strata-it-kafkajs',
    brokers: [broker.bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
    requestTimeout: 15000,
    retry: { retries: 3, initialRetryTime: 100 }
  })
  admin = kafka.admin()
  await admin.connect()
}, { timeout: 60000 })

after(async () => {
  try {
    if (admin) await admin.disconnect()
    if (broker) await broker.stop() // exit code 0 asserted
  } finally {
    if (broker) await broker.close()
  }
}, { timeout: 30000 })

function payload (i, size, seed) {
  const head = Buffer.from(`${seed}msg-${String(i).padStart(8, '0')}|`)
  const body = Buffer.alloc(Math.max(0, size - head.length))
  for (let j = 0; j < body.length; j++) body[j] = (i * 131 + j * 7) & 0xff
  return Buffer.concat([head, body])
}

// Same shape as harness.make_messages: null keys, null and empty values,
// binary values, a few large ones, no/several/duplicate/empty headers.
function makeMessages (n, partitions, seed) {
  const msgs = []
  for (let i = 0; i < n; i++) {
    const key = i % 5 === 0 ? null : Buffer.from(`${seed}key-${i}`)
    let value
    if (i % 7 === 3) value = null
    else if (i % 11 === 4) value = Buffer.alloc(0)
    else if (i % 100 === 99) value = payload(i, 100000, seed)
    else value = payload(i, 20 + (i * 37) % 700, seed)
    const headers = []
    if (i % 4 !== 0) {
      headers.push(['idx', Buffer.from(String(i))], ['bin', Buffer.from([i % 256, 0, 255])])
      if (i % 4 === 2) headers.push(['idx', Buffer.from('dup')])
      if (i % 8 === 3) headers.push(['empty', Buffer.alloc(0)])
    }
    msgs.push({ i, partition: i % partitions, key, value, headers, ts: BASE_TS + i })
  }
  return msgs
}

// KafkaJS takes headers as an object; a repeated key is an array of values.
function kjsHeaders (pairs) {
  const h = {}
  for (const [k, v] of pairs) {
    if (k in h) h[k] = [].concat(h[k], [v])
    else h[k] = v
  }
  return h
}

// KafkaJS writes an object's headers grouped by key: the expected wire order.
function wireOrder (pairs) {
  const keys = []
  for (const [k] of pairs) if (!keys.includes(k)) keys.push(k)
  return keys.flatMap((k) => pairs.filter(([kk]) => kk === k))
}

function b64 (buf) {
  return buf === null ? null : buf.toString('base64')
}

function dump (topic) {
  const r = runSync(PYTHON, [DUMP, broker.bootstrap, topic, '30'], 60000)
  assert.strictEqual(r.code, 0, `dump_topic.py exited ${r.code}: ${r.stderr}`)
  return JSON.parse(r.stdout.toString())
}

function checkContent (topic, msgs) {
  const d = dump(topic)
  for (let p = 0; p < PARTITIONS; p++) {
    const exp = msgs.filter((m) => m.partition === p)
    const got = d.partitions[String(p)]
    assert.strictEqual(d.end_offsets[String(p)], exp.length, `end offset of partition ${p}`)
    assert.deepStrictEqual(got.map((r) => r.offset), exp.map((_, o) => o), `offsets of partition ${p}`)
    for (let o = 0; o < exp.length; o++) {
      const e = exp[o]
      const g = got[o]
      const where = `partition ${p} offset ${o} (message ${e.i})`
      assert.strictEqual(g.key, b64(e.key), `key at ${where}`)
      assert.strictEqual(g.value, b64(e.value), `value at ${where}`)
      assert.deepStrictEqual(g.headers, wireOrder(e.headers).map(([k, v]) => [k, b64(v)]), `headers at ${where}`)
      assert.strictEqual(g.ts, e.ts, `timestamp at ${where}`)
    }
  }
}

async function produceAll (topic, msgs, compression) {
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  try {
    // Several sends, each with messages for every partition (one batch per
    // partition per request); each partition's baseOffset continues the last.
    const next = {}
    for (let start = 0; start < msgs.length; start += 50) {
      const chunk = msgs.slice(start, start + 50)
      const res = await producer.send({
        topic,
        acks: -1,
        compression,
        messages: chunk.map((m) => ({
          key: m.key,
          value: m.value,
          partition: m.partition,
          headers: kjsHeaders(m.headers),
          timestamp: String(m.ts)
        }))
      })
      assert.strictEqual(res.length, new Set(chunk.map((m) => m.partition)).size, 'one result per partition')
      for (const r of res) {
        assert.strictEqual(r.errorCode, 0)
        assert.strictEqual(Number(r.baseOffset), next[r.partition] || 0, `baseOffset on partition ${r.partition}`)
      }
      for (const m of chunk) next[m.partition] = (next[m.partition] || 0) + 1
    }
  } finally {
    await producer.disconnect()
  }
}

async function roundtrip (name, compression) {
  await withLog(broker, async () => {
    const topic = `kjs-${name}`
    const created = await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true })
    assert.strictEqual(created, true)
    const msgs = makeMessages(N, PARTITIONS, `kjs-${name}-`)
    await produceAll(topic, msgs, compression)
    checkContent(topic, msgs)
    const offs = await admin.fetchTopicOffsets(topic)
    assert.deepStrictEqual(offs.map((o) => [o.partition, o.low, o.high]).sort(),
      [0, 1, 2].map((p) => [p, '0', String(msgs.filter((m) => m.partition === p).length)]))
  })
}

test('produce uncompressed, read back byte-exact', { timeout: 120000 }, () => roundtrip('none', CompressionTypes.None))
test('produce GZIP, read back byte-exact', { timeout: 120000 }, () => roundtrip('gzip', CompressionTypes.GZIP))
test('produce Snappy (kafkajs-snappy), read back byte-exact', { timeout: 120000 }, async () => {
  assert.ifError(snappyError) // npm install in tests/integration/js provides kafkajs-snappy
  await roundtrip('snappy', CompressionTypes.Snappy)
})
test('produce LZ4 (kafkajs-lz4), read back byte-exact', { timeout: 120000 }, async () => {
  assert.ifError(lz4Error) // kafkajs-lz4 needs its native lz4 module built by npm install
  await roundtrip('lz4', CompressionTypes.LZ4)
})

test('consumer group round trip with a KafkaJS consumer',
  { timeout: 120000 }, async () => {
    await withLog(broker, async () => {
      const topic = 'kjs-group'
      await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true })
      const msgs = makeMessages(N, PARTITIONS, 'kjs-group-')
      await produceAll(topic, msgs, CompressionTypes.GZIP)
      const consumer = kafka.consumer({ groupId: 'strata-it-kjs', maxWaitTimeInMs: 100 })
      await consumer.connect()
      const got = { 0: [], 1: [], 2: [] }
      try {
        await consumer.subscribe({ topic, fromBeginning: true })
        await consumer.run({
          eachMessage: async ({ partition, message }) => {
            got[partition].push({ offset: Number(message.offset), key: message.key, value: message.value,
              headers: message.headers, ts: Number(message.timestamp) })
          }
        })
        await waitUntil(() => Object.values(got).reduce((a, v) => a + v.length, 0) >= N, 60000, `${N} messages`)
      } finally {
        await consumer.disconnect()
      }
      for (let p = 0; p < PARTITIONS; p++) {
        const exp = msgs.filter((m) => m.partition === p)
        assert.deepStrictEqual(got[p].map((r) => r.offset), exp.map((_, o) => o))
        exp.forEach((e, o) => {
          const g = got[p][o]
          assert.strictEqual(b64(g.key), b64(e.key))
          assert.strictEqual(b64(g.value), b64(e.value))
          assert.deepStrictEqual(Object.keys(g.headers).sort(), Object.keys(kjsHeaders(e.headers)).sort())
          assert.strictEqual(g.ts, e.ts)
        })
      }
    })
  })

test('admin: createTopics with configs, describeConfigs, alterConfigs', { timeout: 60000 }, async () => {
  await withLog(broker, async () => {
    const topic = 'kjs-admin-cfg'
    assert.strictEqual(await admin.createTopics({
      topics: [{ topic, numPartitions: 2, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
      waitForLeaders: true
    }), true)
    const describe = async () => {
      const r = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] })
      assert.strictEqual(r.resources.length, 1)
      assert.strictEqual(r.resources[0].errorCode, 0)
      return Object.fromEntries(r.resources[0].configEntries.map((e) => [e.configName, e]))
    }
    let cfg = await describe()
    assert.strictEqual(cfg['retention.ms'].configValue, '3600000')
    assert.strictEqual(cfg['retention.ms'].isDefault, false)
    assert.strictEqual(cfg['cleanup.policy'].configValue, 'delete')
    const alt = await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '7200000' }] }]
    })
    assert.strictEqual(alt.resources[0].errorCode, 0)
    cfg = await describe()
    assert.strictEqual(cfg['retention.ms'].configValue, '7200000')
    // Only the named configs are returned when asked for them.
    const r = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms'] }] })
    assert.deepStrictEqual(r.resources[0].configEntries.map((e) => [e.configName, e.configValue]), [['retention.ms', '7200000']])
  })
})

test('admin: createTopics again, validateOnly, fetchTopicMetadata, createPartitions, deleteTopics', { timeout: 60000 }, async () => {
  await withLog(broker, async () => {
    const topic = 'kjs-admin-life'
    assert.strictEqual(await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true }), true)
    // An existing topic: KafkaJS maps TOPIC_ALREADY_EXISTS to false.
    assert.strictEqual(await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] }), false)
    // validateOnly creates nothing (no leaders to wait for: the topic must not exist).
    assert.strictEqual(await admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: 'kjs-admin-vo', numPartitions: 3 }] }), true)
    assert.ok(!(await admin.listTopics()).includes('kjs-admin-vo'), 'validateOnly created the topic')

    let md = await admin.fetchTopicMetadata({ topics: [topic] })
    assert.strictEqual(md.topics.length, 1)
    assert.strictEqual(md.topics[0].name, topic)
    assert.deepStrictEqual(md.topics[0].partitions.map((p) => p.partitionId).sort(), [0, 1])
    for (const p of md.topics[0].partitions) {
      assert.strictEqual(p.partitionErrorCode, 0)
      assert.ok(p.leader >= 0)
      assert.deepStrictEqual(p.replicas, [p.leader])
      assert.deepStrictEqual(p.isr, [p.leader])
    }

    await admin.createPartitions({ topicPartitions: [{ topic, count: 5 }] })
    await waitUntil(async () => {
      md = await admin.fetchTopicMetadata({ topics: [topic] })
      return md.topics[0].partitions.length === 5
    }, 15000, '5 partitions')
    await assert.rejects(admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] }),
      (e) => /INVALID_PARTITIONS|partition/i.test(`${e.type} ${e.message} ${JSON.stringify(e.errors || e.cause || '')}`),
      'shrinking to 3 partitions must fail')

    // fetchTopicOffsets on an empty topic, then after producing.
    let offs = await admin.fetchTopicOffsets(topic)
    assert.deepStrictEqual(offs.map((o) => [o.partition, o.low, o.high]).sort(), [0, 1, 2, 3, 4].map((p) => [p, '0', '0']))
    const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner })
    await producer.connect()
    await producer.send({ topic, acks: -1, messages: [{ partition: 4, value: 'a' }, { partition: 4, value: 'b' }] })
    await producer.disconnect()
    offs = await admin.fetchTopicOffsets(topic)
    assert.strictEqual(offs.find((o) => o.partition === 4).high, '2')

    await admin.deleteTopics({ topics: [topic], timeout: 10000 })
    await waitUntil(async () => !(await admin.listTopics()).includes(topic), 15000, `${topic} deleted`)
  })
})

test('TLS: produce and consume over an SSL listener', { timeout: 120000 }, async () => {
  const fs = require('node:fs')
  const os = require('node:os')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-it-kjs-tls-'))
  const p = (f) => path.join(dir, f)
  const openssl = (...args) => {
    const r = runSync('openssl', args)
    assert.strictEqual(r.code, 0, `openssl ${args.join(' ')}: ${r.stderr}`)
  }
  fs.writeFileSync(p('san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2',
    '-subj', '/CN=strata-it-kjs-ca')
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('broker.key'), '-out', p('broker.csr'), '-subj', '/CN=localhost')
  openssl('x509', '-req', '-in', p('broker.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial',
    '-out', p('broker.pem'), '-days', '2', '-extfile', p('san.cnf'))
  fs.writeFileSync(p('keystore.pem'), fs.readFileSync(p('broker.key')) + fs.readFileSync(p('broker.pem')))
  const tlsBroker = new Broker({
    name: 'kafkajs-tls',
    overrides: { listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0', 'ssl.keystore.location': p('keystore.pem') }
  })
  await tlsBroker.start()
  const secure = new Kafka({
    clientId: 'strata-it-kafkajs-tls',
    brokers: [tlsBroker.sslBootstrap],
    ssl: { ca: [fs.readFileSync(p('ca.pem'), 'utf8')] },
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
    requestTimeout: 15000,
    retry: { retries: 3, initialRetryTime: 100 }
  })
  const tlsAdmin = secure.admin()
  try {
    await withLog(tlsBroker, async () => {
      await tlsAdmin.connect()
      assert.strictEqual(await tlsAdmin.createTopics({ topics: [{ topic: 'kjs-tls', numPartitions: 1 }], waitForLeaders: true }), true)
      // The SSL client is given the SSL port, not the plaintext one.
      const cluster = await tlsAdmin.describeCluster()
      assert.deepStrictEqual(cluster.brokers.map((b) => b.port), [tlsBroker.sslPort])
      const producer = secure.producer({ createPartitioner: Partitioners.DefaultPartitioner })
      await producer.connect()
      await producer.send({ topic: 'kjs-tls', acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `tls-${i}` })) })
      await producer.disconnect()
      const consumer = secure.consumer({ groupId: 'kjs-tls-group' })
      const got = []
      await consumer.connect()
      await consumer.subscribe({ topic: 'kjs-tls', fromBeginning: true })
      await consumer.run({ eachMessage: async ({ message }) => { got.push(message.value.toString()) } })
      await waitUntil(() => got.length >= 10, 60000, '10 messages over TLS')
      await consumer.disconnect()
      assert.deepStrictEqual(got, Array.from({ length: 10 }, (_, i) => `tls-${i}`))
    })
  } finally {
    await tlsAdmin.disconnect()
    try {
      await tlsBroker.stop()
    } finally {
      await tlsBroker.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
})
