"""Request and response bodies of /users, /users/login and /user."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from core.auth.sessions import LogInInput
from core.users.model import (
    BIO_MAX,
    EMAIL_MAX,
    IMAGE_URL_MAX,
    PASSWORD_MAX,
    USERNAME_MAX,
    bio_of,
    check_password,
    email_of,
    image_of,
    username_of,
)
from core.users.use_cases import RegisterUserInput, UpdateUserInput
from core.users.views import UserView
from entrypoints.http.schemas.common import EXAMPLE_TOKEN, checked_by

# A field of a new or changed account, checked by the core's rule for it (see checked_by).
Username = Annotated[
    str,
    Field(
        max_length=USERNAME_MAX,
        description="Letters, digits, `_`, `-` and `.`, the letters of one script; kept in "
        "Unicode NFKC form. Unique regardless of case, and unlike every other username "
        "(Unicode TR39 confusable skeleton).",
    ),
    checked_by(username_of),
]
Email = Annotated[str, Field(max_length=EMAIL_MAX), checked_by(email_of)]
NewPassword = Annotated[str, Field(max_length=PASSWORD_MAX), checked_by(check_password)]
Bio = Annotated[str, Field(max_length=BIO_MAX), checked_by(bio_of)]
Image = Annotated[str, Field(max_length=IMAGE_URL_MAX), checked_by(image_of)]


class NewUser(BaseModel):
    username: Username = Field(examples=["jake"])
    email: Email = Field(examples=["jake@jake.jake"])
    password: NewPassword = Field(examples=["jakejake"])


class NewUserRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"user": {"username": "jake", "email": "jake@jake.jake", "password": "jakejake"}}
            ]
        }
    )
    user: NewUser

    def to_input(self) -> RegisterUserInput:
        return RegisterUserInput(self.user.username, self.user.email, self.user.password)


class LoginUser(BaseModel):
    email: str = Field(max_length=EMAIL_MAX, examples=["jake@jake.jake"])
    password: str = Field(max_length=PASSWORD_MAX, examples=["jakejake"])


class LoginUserRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"user": {"email": "jake@jake.jake", "password": "jakejake"}}]
        }
    )
    user: LoginUser

    def to_input(self, client: str | None = None) -> LogInInput:
        return LogInInput(self.user.email, self.user.password, client)


class UpdateUser(BaseModel):
    """Fields to change; a `null` or empty bio or image clears it."""

    email: Email | None = None
    username: Username | None = None
    password: NewPassword | None = None
    bio: Bio | None = None
    image: Image | None = None


class UpdateUserRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"user": {"bio": "I like to skateboard"}}]}
    )
    user: UpdateUser

    def to_input(self) -> UpdateUserInput:
        sent = self.user.model_fields_set
        u = self.user
        return UpdateUserInput(
            email=u.email,
            username=u.username,
            password=u.password,
            # An explicit null clears bio/image, as an empty string does.
            bio=("" if u.bio is None else u.bio) if "bio" in sent else None,
            image=("" if u.image is None else u.image) if "image" in sent else None,
        )


class User(BaseModel):
    email: str
    token: str
    username: str
    bio: str
    image: str | None


class UserResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user": {
                        "email": "jake@jake.jake",
                        "token": EXAMPLE_TOKEN,
                        "username": "jake",
                        "bio": "I work at statefarm",
                        "image": None,
                    }
                }
            ]
        }
    )
    user: User

    @classmethod
    def of(cls, view: UserView) -> UserResponse:
        return cls(
            user=User(
                email=view.email,
                token=view.token,
                username=view.username,
                bio=view.bio,
                image=view.image,
            )
        )
