"""The baseline: a minimal hello-world skill on the same ask-sdk-core, as the SDK's docs build it.

One handler, constant speech, entered through ``SkillBuilder.lambda_handler()``.
"""
from ask_sdk_core.skill_builder import SkillBuilder
from ask_sdk_core.utils import is_request_type

sb = SkillBuilder()


@sb.request_handler(can_handle_func=lambda handler_input: True)
def hello(handler_input):
    return handler_input.response_builder.speak("Hello world!").set_should_end_session(True).response


handler = sb.lambda_handler()

__all__ = ["handler", "is_request_type"]
