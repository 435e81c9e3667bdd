/**
 * Built-in invoker callbacks (Layotto's components/rpc/callback). Registered explicitly at the
 * composition root through registerBuiltinInvokerFilters.
 */
import { Registry } from '../../common/registry.js';
import type { BeforeInvokeFactory, AfterInvokeFactory, InvokerFilterRegistries, RpcRequest } from '../../types/runtime.js';

/**
 * `dubbo_json_rpc`: a dubbo-go JSON-RPC provider is reached over HTTP at /{service} with the method in a
 * header, so the service id becomes the URI and the method moves to x-method.
 */
export const dubboJsonRpc: BeforeInvokeFactory = {
  create() {
    return (req: RpcRequest): RpcRequest => {
      req.headers['x-services'] = req.id;
      req.headers['x-method'] = req.method;
      req.headers['content-type'] = 'application/json';
      req.headers['accept'] = 'application/json';
      req.method = req.id;
      return req;
    };
  },
};

export function newInvokerFilterRegistries(): InvokerFilterRegistries {
  return { before: new Registry<BeforeInvokeFactory>('before_invoke callback'), after: new Registry<AfterInvokeFactory>('after_invoke callback') };
}

export function registerBuiltinInvokerFilters(registry: InvokerFilterRegistries): void {
  registry.before.register('dubbo_json_rpc', dubboJsonRpc);
}
