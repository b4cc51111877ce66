/**
 * The engine facade container adapters drive: {@link io.msm.engine.SessionEngine}, with the session view
 * {@link io.msm.engine.ManagedSession} the adapter implements.
 */
package io.msm.engine;
