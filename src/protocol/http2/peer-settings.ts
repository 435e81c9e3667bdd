/**
 * What the peer's SETTINGS frames said it accepts from this side (RFC 9113 §6.5.2), with the checks
 * that make a bad value a connection error. Values apply in the order the frame lists them; the two
 * that change other engine state (the HPACK table size and the initial stream window) are handed to
 * the engine as they are applied, so a window overflow is found at the setting that caused it.
 */
import { Http2ErrorCode, SettingId } from '../../types/http2.js';
import { Http2ConnectionError } from './errors.js';
import { DEFAULT_WINDOW, MAX_WINDOW } from './flow-control.js';

/** The smallest SETTINGS_MAX_FRAME_SIZE, and every peer's until it says otherwise. */
export const DEFAULT_MAX_FRAME = 16_384;

export interface PeerSettingEffects {
  /** SETTINGS_HEADER_TABLE_SIZE: the encoder's dynamic table bound. */
  peerTableSize(size: number): void;
  /** SETTINGS_INITIAL_WINDOW_SIZE moved every open stream's send window by `delta`. */
  initialWindowMoved(delta: number): void;
}

export class PeerSettings {
  /** RFC 9113 §6.5.2 suggests no fewer than 100; assumed until the peer's SETTINGS say. */
  maxConcurrentStreams = 100;
  initialWindow = DEFAULT_WINDOW;
  maxFrame = DEFAULT_MAX_FRAME;
  maxHeaderList = Infinity;

  /** `isClient`: this side is the client, so the peer is a server and may not enable push. */
  apply(settings: readonly (readonly [number, number])[], isClient: boolean, effects: PeerSettingEffects): void {
    for (const [id, value] of settings) {
      switch (id) {
        case SettingId.HeaderTableSize:
          effects.peerTableSize(value);
          break;
        case SettingId.EnablePush:
          if (value > 1) throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, 'SETTINGS_ENABLE_PUSH not 0 or 1');
          if (value === 1 && isClient) throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, 'server enabled push');
          break;
        case SettingId.MaxConcurrentStreams:
          this.maxConcurrentStreams = value;
          break;
        case SettingId.InitialWindowSize: {
          if (value > MAX_WINDOW) throw new Http2ConnectionError(Http2ErrorCode.FlowControlError, 'SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1');
          const delta = value - this.initialWindow;
          this.initialWindow = value;
          effects.initialWindowMoved(delta);
          break;
        }
        case SettingId.MaxFrameSize:
          if (value < DEFAULT_MAX_FRAME || value > 0xffffff) throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, 'SETTINGS_MAX_FRAME_SIZE out of range');
          this.maxFrame = value;
          break;
        case SettingId.MaxHeaderListSize:
          this.maxHeaderList = value;
          break;
        default:
          break; // unknown settings are ignored (RFC 9113 §6.5.2)
      }
    }
  }
}
