'use strict'
// The package entry: the generated native binding (index.js) with its errors made idiomatic.
// Native errors carry a `.code`: a docs/DESIGN.md §5 name becomes a TrustError, a napi-rs conversion
// failure (a JS value of the wrong type or shape) a TypeError. The same goes for the errors a
// batch returns in its entries (`{ ok: false, error }`). Nothing else happens here.

const native = require('./index.js')

const ERROR_CODES = Object.freeze(native.errorCodes())
const TRUST_CODES = new Set(ERROR_CODES)
// napi-rs statuses that mean "this JS value has the wrong type or shape"
const TYPE_STATUSES = new Set([
  'InvalidArg',
  'ObjectExpected',
  'StringExpected',
  'NameExpected',
  'FunctionExpected',
  'NumberExpected',
  'BooleanExpected',
  'ArrayExpected',
  'BigintExpected',
  'DateExpected',
  'ArrayBufferExpected',
  'DetachableArraybufferExpected',
])
// what napi-rs reports for a panic it caught while converting arguments
const PANIC_STATUS = 'GenericFailure'

class TrustError extends Error {
  constructor(code, message) {
    super(message)
    Object.defineProperty(this, 'code', { value: code, enumerable: true })
  }
}
Object.defineProperty(TrustError.prototype, 'name', { value: 'TrustError' })

function convert(err) {
  if (!(err instanceof Error) || err instanceof TrustError) return err
  if (TRUST_CODES.has(err.code)) return new TrustError(err.code, err.message)
  if (TYPE_STATUSES.has(err.code)) {
    const typeError = new TypeError(typeMessage(err.message))
    typeError.code = 'ERR_INVALID_ARG_TYPE'
    return typeError
  }
  // the panic message is not shown: it could quote a value
  if (err.code === PANIC_STATUS) return new TrustError('INTERNAL', 'internal error')
  return err
}

// napi-rs quotes the offending value (an object as JSON): keep its type, drop the value, which
// could be a credential passed in the wrong place
function typeMessage(message) {
  const quoted = /^Failed to convert JavaScript value `(\S+)/.exec(message)
  if (!quoted) return message
  const rest = message.lastIndexOf('` into rust type `')
  const kind = quoted[1].replace(/[^\w]/g, '')
  return `Failed to convert a JavaScript ${kind}${rest >= 0 ? message.slice(rest + 1) : ''}`
}

function rethrow(err) {
  throw convert(err)
}

// the methods that answer with one entry per request, `{ ok: true, … }` or `{ ok: false, error }`
const OUTCOME_LISTS = new Set(['authenticateBatch', 'authenticateBatchAsync'])

// each refusal's native error becomes a TrustError, in place; `stackStart` as for a thrown one
function convertOutcomes(outcomes, stackStart) {
  for (const outcome of outcomes) {
    if (outcome.ok) continue
    const converted = convert(outcome.error)
    if (converted !== outcome.error) Error.captureStackTrace(converted, stackStart)
    outcome.error = converted
  }
  return outcomes
}

// `self`, when given, is the receiver: static factories run on the class itself, not on its proxy.
// A Promise form (`…Async`, or every method of a class whose methods all answer with a Promise)
// always returns a Promise: what it throws while reading its arguments becomes a rejection, so
// `.catch()` sees every failure.
function wrap(fn, name, self, promises = false) {
  const isAsync = promises || name.endsWith('Async')
  const wrapped = function (...args) {
    let result
    try {
      result = Reflect.apply(fn, self === undefined ? this : self, args)
    } catch (err) {
      const converted = convert(err)
      // the stack starts at the caller, not in this wrapper
      if (converted !== err) Error.captureStackTrace(converted, wrapped)
      if (isAsync) return Promise.reject(converted)
      throw converted
    }
    if (OUTCOME_LISTS.has(name)) {
      return isAsync ? result.then((outcomes) => convertOutcomes(outcomes, wrapped), rethrow) : convertOutcomes(result, wrapped)
    }
    return isAsync ? result.catch(rethrow) : result
  }
  Object.defineProperty(wrapped, 'name', { value: name })
  return wrapped
}

// Classes keep their identity (instances are made natively); their methods, getters and static
// factories are wrapped in place. `new` from JS is refused with a TypeError, except for the classes
// a user makes (`constructible`), whose constructor errors are converted like any other.
function wrapClass(cls, { constructible = false, promises = false } = {}) {
  for (const target of [cls, cls.prototype]) {
    for (const key of Object.getOwnPropertyNames(target)) {
      if (['constructor', 'prototype', 'length', 'name'].includes(key)) continue
      const descriptor = Object.getOwnPropertyDescriptor(target, key)
      const self = target === cls ? cls : undefined
      // toString stays synchronous whatever the class's other methods do
      const isPromise = promises && target === cls.prototype && key !== 'toString'
      if (typeof descriptor.value === 'function') descriptor.value = wrap(descriptor.value, key, self, isPromise)
      if (descriptor.get) descriptor.get = wrap(descriptor.get, key)
      Object.defineProperty(target, key, descriptor)
    }
  }
  if (constructible) {
    const proxy = new Proxy(cls, {
      // napi-rs's constructor does not check new.target: called as a function it would wrap
      // whatever `this` is (the module's exports, for `trustcore.SignerClient(…)`)
      apply() {
        throw new TypeError(`Class constructor ${cls.name} cannot be invoked without 'new'`)
      },
      construct(target, args, newTarget) {
        try {
          return Reflect.construct(target, args, newTarget === proxy ? target : newTarget)
        } catch (err) {
          const converted = convert(err)
          if (converted !== err) Error.captureStackTrace(converted, proxy)
          throw converted
        }
      },
    })
    return proxy
  }
  const factories = Object.getOwnPropertyNames(cls).filter((k) => typeof cls[k] === 'function')
  const hint = factories.length ? `use ${factories.map((f) => `${cls.name}.${f}()`).join(' or ')}` : 'it is made by trustcore'
  const refuse = () => {
    throw new TypeError(`${cls.name} has no public constructor: ${hint}`)
  }
  return new Proxy(cls, { construct: refuse, apply: refuse })
}

const CLASSES = new Set(['IssuerKey', 'WorkerKey', 'Token', 'HttpPolicy'])
// made with `new` from JS; every method does I/O on the libuv pool and answers with a Promise
const CLIENT_CLASSES = new Set(['SignerClient'])
// made with `new` from JS; sync methods and their `…Async` Promise forms side by side
const CONSTRUCTIBLE_CLASSES = new Set(['Verifier'])

for (const [name, value] of Object.entries(native)) {
  if (CLASSES.has(name)) exports[name] = wrapClass(value)
  else if (CLIENT_CLASSES.has(name)) exports[name] = wrapClass(value, { constructible: true, promises: true })
  else if (CONSTRUCTIBLE_CLASSES.has(name)) exports[name] = wrapClass(value, { constructible: true })
  else if (typeof value === 'function') exports[name] = wrap(value, name)
  else exports[name] = value
}
exports.TrustError = TrustError
exports.ERROR_CODES = ERROR_CODES
// the package's version (every trustcore package of a release has the same one: CHANGELOG.md)
exports.version = require('./package.json').version
